"""Demo data of the sales app: a catalogue with cross-sells, and three years of orders (with a
Diwali peak each year) that give each customer the lifecycle history it has.

Every order goes through the order services, in time order, with the nightly churn job run
before each business day that has orders, so each phase a contact ends in - and every move
before it - comes from the same rules as in production, dated as they would have been."""

import datetime
import itertools
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from contacts.models import Contact, CustomerType, FieldChange, Phase, PhaseChange
from sales import lifecycle
from sales.models import OrderChannel, Product, RelationKind
from sales.services import (
    order_cancel,
    order_create,
    order_mark_paid,
    order_refund,
    product_create,
    product_relation_set,
    suggestions_refresh,
)

# sku, name, category, price (INR)
CATALOGUE = [
    ("PHN-A15", "Galaxy A15 phone", "Phones", "14999.00"),
    ("PHN-S24", "Galaxy S24 phone", "Phones", "74999.00"),
    ("PHN-NRD", "Nord CE phone", "Phones", "24999.00"),
    ("ACC-CASE", "Phone case", "Accessories", "799.00"),
    ("ACC-GRD", "Tempered screen guard", "Accessories", "499.00"),
    ("ACC-CHG", "Fast charger 33W", "Accessories", "1499.00"),
    ("ACC-BUDS", "Wireless earbuds", "Accessories", "2999.00"),
    ("HOM-MIX", "Mixer grinder 750W", "Home appliances", "4299.00"),
    ("HOM-PUR", "Water purifier RO", "Home appliances", "13499.00"),
    ("HOM-AMC", "Water purifier service plan (1 year)", "Services", "2499.00"),
    ("HOM-FAN", "BLDC ceiling fan", "Home appliances", "3899.00"),
    ("TEX-SAR", "Mysore silk saree", "Textiles", "11999.00"),
    ("TEX-KUR", "Handloom cotton kurta", "Textiles", "1899.00"),
    ("FES-SWT", "Diwali sweets hamper", "Festive", "1499.00"),
    ("FES-DIY", "Brass diya set", "Festive", "899.00"),
    ("FES-GFT", "Corporate Diwali gift box", "Festive", "2499.00"),
    ("B2B-LAP", 'Business laptop 14"', "IT for business", "58999.00"),
    ("B2B-WTY", "Laptop extended warranty (2 years)", "Services", "6999.00"),
]
# who buys the first should be offered the second
RELATIONS = [
    ("PHN-A15", "ACC-CASE", RelationKind.CROSS_SELL),
    ("PHN-NRD", "ACC-CASE", RelationKind.CROSS_SELL),
    ("PHN-A15", "PHN-S24", RelationKind.UPSELL),
    ("PHN-S24", "ACC-BUDS", RelationKind.CROSS_SELL),
    ("HOM-PUR", "HOM-AMC", RelationKind.CROSS_SELL),
    ("B2B-LAP", "B2B-WTY", RelationKind.CROSS_SELL),
]
# products often bought in the same order as the first (what the suggestion job finds)
BUNDLES = {
    "PHN-A15": [("ACC-CASE", 0.5), ("ACC-GRD", 0.6)],
    "PHN-NRD": [("ACC-GRD", 0.6), ("ACC-CHG", 0.3)],
    "PHN-S24": [("ACC-GRD", 0.5), ("ACC-CHG", 0.4)],
    "HOM-PUR": [("HOM-AMC", 0.3)],
    "FES-SWT": [("FES-DIY", 0.5)],
    "B2B-LAP": [("ACC-CHG", 0.3)],
}
CONSUMER_FIRST = ["PHN-A15", "PHN-NRD", "PHN-S24", "HOM-MIX", "HOM-PUR", "HOM-FAN", "TEX-SAR", "TEX-KUR", "ACC-BUDS"]
BUSINESS_FIRST = ["B2B-LAP", "HOM-PUR", "FES-GFT", "PHN-A15", "HOM-FAN"]
FESTIVE = ["FES-SWT", "FES-DIY", "TEX-SAR", "TEX-KUR"]
DIWALI = [
    datetime.date(2024, 11, 1),
    datetime.date(2025, 10, 21),
    datetime.date(2026, 11, 8),
    datetime.date(2027, 10, 29),
]
CHANNELS = [(OrderChannel.ONLINE, 40), (OrderChannel.STORE, 35), (OrderChannel.PHONE, 15), (OrderChannel.PARTNER, 10)]
HISTORY_DAYS = 3 * 365


@dataclass
class _Planned:
    contact: Contact
    placed_at: datetime.datetime
    skus: list[str]
    fate: str = "paid"  # paid, refunded, cancelled, placed
    discount_share: Decimal = Decimal("0")


def _diwali_weight(day: datetime.date) -> float:
    """How much busier a day is than an ordinary one: up to seven times in the fortnight before Diwali."""
    nearest = min(DIWALI, key=lambda diwali: abs((diwali - day).days))
    days_before = (nearest - day).days
    return 1 + 6 * math.exp(-(((days_before - 5) / 9) ** 2))


def _day_between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    """A day in [first, last], more likely near Diwali (rejection sampling)."""
    span = max((last - first).days, 0)
    while True:
        day = first + datetime.timedelta(days=rng.randint(0, span))
        if rng.random() * 7 <= _diwali_weight(day):
            return day


def _at(rng: random.Random, day: datetime.date) -> datetime.datetime:
    zone = lifecycle.business_zone()
    return datetime.datetime.combine(day, datetime.time(rng.randint(9, 20), rng.randrange(60)), tzinfo=zone)


def _basket(rng: random.Random, contact: Contact, day: datetime.date) -> list[str]:
    b2b = contact.customer_type == CustomerType.B2B
    festive = _diwali_weight(day) > 3 and rng.random() < 0.6
    pool = (["FES-GFT"] if b2b else FESTIVE) if festive else (BUSINESS_FIRST if b2b else CONSUMER_FIRST)
    first = rng.choice(pool)
    skus = [first]
    for sku, chance in BUNDLES.get(first, []):
        if rng.random() < chance:
            skus.append(sku)
    return skus


def _dates_back_from(rng, last: datetime.date, count: int, *, gap: tuple[int, int], earliest: datetime.date):
    """`count` purchase days ending at `last`, each `gap` days (min, max) after the one before."""
    days = [last]
    while len(days) < count:
        previous = days[-1] - datetime.timedelta(days=rng.randint(*gap))
        if previous < earliest:
            break
        days.append(previous)
    return sorted(days)


def _festive(rng: random.Random, contact: Contact, first: datetime.date, last: datetime.date) -> list[_Planned]:
    """Diwali shopping between a customer's first and last purchase (which it leaves as they are)."""
    plans = []
    for diwali in DIWALI:
        day = diwali - datetime.timedelta(days=rng.randint(0, 18))
        if first < day < last and rng.random() < 0.8:
            skus = ["FES-GFT"] if contact.customer_type == CustomerType.B2B else [rng.choice(FESTIVE)]
            skus += [sku for sku, chance in BUNDLES.get(skus[0], []) if rng.random() < chance]
            plans.append(_Planned(contact, _at(rng, day), skus))
    return plans


def _plan(rng: random.Random, contact: Contact, target: str, today: datetime.date) -> list[_Planned]:
    earliest = today - datetime.timedelta(days=HISTORY_DAYS)
    recent = (today - datetime.timedelta(days=320), today - datetime.timedelta(days=2))
    if target == Phase.RETENTION:
        day = _day_between(rng, *recent)
        days = [day]
        if rng.random() < 0.3 and day.day < 25:
            days.append(day + datetime.timedelta(days=rng.randint(1, 28 - day.day)))
        skus = _basket(rng, contact, day)
        # A second order in the same month buys the same again (a refill), never an offered product.
        return [_Planned(contact, _at(rng, day), list(skus)) for day in days]
    if target == Phase.EXTENSION:
        last = _day_between(rng, *recent)
        days = _dates_back_from(rng, last, rng.randint(2, 8), gap=(32, 200), earliest=earliest)
        plans = [_Planned(contact, _at(rng, day), _basket(rng, contact, day)) for day in days]
        for planned, following in itertools.pairwise(plans):
            # Half of them come back for what was offered with their earlier purchase.
            offered = [to for source, to, _kind in RELATIONS if source in planned.skus]
            if offered and rng.random() < 0.5:
                following.skus = [rng.choice(offered)]
        return plans + _festive(rng, contact, days[0], last)
    # churned; one in five comes back later (a win-back)
    last = _day_between(rng, earliest + datetime.timedelta(days=60), today - datetime.timedelta(days=380))
    days = _dates_back_from(rng, last, rng.randint(1, 3), gap=(25, 160), earliest=earliest)
    plans = [_Planned(contact, _at(rng, day), _basket(rng, contact, day)) for day in days]
    plans += _festive(rng, contact, days[0], last)
    comeback_from = last + datetime.timedelta(days=lifecycle.churn_window_days() + 30)
    if rng.random() < 0.2 and comeback_from < recent[1]:
        day = _day_between(rng, comeback_from, recent[1])
        plans.append(_Planned(contact, _at(rng, day), _basket(rng, contact, day)))
    return plans


def _fates(rng: random.Random, plans: list[_Planned]) -> None:
    for planned in plans:
        roll = rng.random()
        if roll < 0.04:
            planned.fate = "refunded"
        elif roll < 0.07:
            planned.fate = "cancelled"
        if _diwali_weight(planned.placed_at.date()) > 3 and rng.random() < 0.4:
            planned.discount_share = Decimal("0.10")  # a festive offer


def _backdate(contact: Contact, at: datetime.datetime) -> None:
    """The demo enters its customers today; date them before their first order, as if entered then."""
    Contact.objects.filter(pk=contact.pk).update(created_at=at, phase_changed_at=at)
    PhaseChange.objects.filter(contact=contact, from_phase="").update(at=at)
    FieldChange.objects.filter(record_type="contact", record_id=contact.pk, field="created").update(changed_at=at)


def _place(rng: random.Random, planned: _Planned, products: dict[str, Product]) -> None:
    contact = planned.contact
    lines = []
    for sku in planned.skus:
        product = products[sku]
        count = rng.randint(1, 12) if contact.customer_type == CustomerType.B2B else 1
        discount = (product.unit_price * count * planned.discount_share).quantize(Decimal("0.01"))
        lines.append({"product": product, "quantity": count, "discount": discount})
    channels, weights = zip(*CHANNELS, strict=True)
    channel = rng.choices(channels, weights)[0]
    order = order_create(by=contact.owner, contact=contact, lines=lines, placed_at=planned.placed_at, channel=channel)
    if planned.fate == "placed":
        return
    if planned.fate == "cancelled":
        order_cancel(order=order, by=contact.owner, at=planned.placed_at + datetime.timedelta(hours=2))
        return
    order_mark_paid(order=order, by=contact.owner, at=planned.placed_at + datetime.timedelta(minutes=7))
    if planned.fate == "refunded":
        order_refund(
            order=order, by=contact.owner, reason="Returned", at=planned.placed_at + datetime.timedelta(days=3)
        )


def orders_demo(*, rng: random.Random, customers: list[tuple[Contact, str]], by) -> dict[str, int]:
    """The catalogue, its relations, and the orders of `customers` (contact, the phase it is to reach:
    retention, extension or churned), all through the services; the contacts are leads (acquisition)."""
    now = timezone.now()
    today = timezone.localdate(now, lifecycle.business_zone())
    products = {
        sku: product_create(
            by=by, sku=sku, name=name, category=category, unit_price=price, currency=settings.DEFAULT_CURRENCY
        )
        for sku, name, category, price in CATALOGUE
    }
    for source, target, kind in RELATIONS:
        product_relation_set(from_product=products[source], to_product=products[target], kind=kind, by=by)

    planned: list[_Planned] = []
    for contact, target in customers:
        plans = _plan(rng, contact, target, today)
        _fates(rng, plans)
        first = min(plan.placed_at for plan in plans)
        _backdate(contact, first - datetime.timedelta(days=rng.randint(3, 90), hours=rng.randint(0, 12)))
        contact.refresh_from_db()
        planned += plans
    planned.sort(key=lambda plan: plan.placed_at)
    for plan in planned[-3:]:
        plan.fate = "placed"  # the latest orders wait for their payment

    last_run = None
    for plan in planned:
        day = plan.placed_at.date()
        if day != last_run:
            # The nightly job, as it would have run at 01:15 that day.
            lifecycle.lifecycle_churn(now=_at_night(day))
            last_run = day
        _place(rng, plan, products)
    lifecycle.lifecycle_churn(now=now)
    suggestions_refresh(now=now)
    return {"products": len(products), "orders": len(planned)}


def _at_night(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 15), tzinfo=lifecycle.business_zone())
