"""Demo data of the pipeline: deals in every stage, consistent with each contact's lifecycle.

Leads (acquisition) have open deals at every stage, and some lost ones; each customer's first
purchase was a deal won just before its first order; some customers have an upsell open and the
water-purifier buyers a service-plan renewal. Everything goes through the pipeline services, dated
in the past, so each deal has its stage history and timeline. Called by crm.demo.seed_demo after
the orders exist (their products and first purchase dates)."""

import datetime
import random
from decimal import Decimal

from django.db.models import F, Min
from django.utils import timezone

from contacts.models import Contact, CustomerType, Phase
from sales.models import Deal, Order, OrderStatus, Pipeline, Product, Stage, StageKind
from sales.pipeline import deal_create, deal_lose, deal_move, deal_win, default_pipeline

# name, kind, win probability (%): the pipeline a new installation gets (migration 0003) as well
SALES_STAGES = [
    ("Qualification", StageKind.OPEN, 10),
    ("Needs analysis", StageKind.OPEN, 25),
    ("Proposal", StageKind.OPEN, 50),
    ("Negotiation", StageKind.OPEN, 75),
    ("Won", StageKind.WON, 100),
    ("Lost", StageKind.LOST, 0),
]
RENEWAL_STAGES = [
    ("Due", StageKind.OPEN, 60),
    ("Contacted", StageKind.OPEN, 75),
    ("Quote sent", StageKind.OPEN, 90),
    ("Renewed", StageKind.WON, 100),
    ("Not renewed", StageKind.LOST, 0),
]
LOST_REASONS = [
    "Went with a cheaper vendor",
    "No budget this quarter",
    "Chose to wait for the festive offers",
    "Stopped answering",
    "Bought from the brand's own store",
]
DEAL_NAMES = {
    "Phones": "phones",
    "Accessories": "accessories",
    "Home appliances": "home appliances",
    "Textiles": "textiles",
    "Festive": "festive gifts",
    "IT for business": "laptops",
    "Services": "service plan",
}


def _pipeline(name: str, stages, position: int) -> Pipeline:
    pipeline, created = Pipeline.objects.get_or_create(name=name, defaults={"position": position})
    if created:
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=stage, kind=kind, probability=probability, position=n)
            for n, (stage, kind, probability) in enumerate(stages, start=1)
        )
    return pipeline


def _stages(pipeline: Pipeline, kind: str) -> list[Stage]:
    return list(pipeline.stages.filter(kind=kind).order_by("position", "id"))


def _offer(rng: random.Random, contact: Contact, products: list[Product]) -> tuple[str, list[Product], Decimal]:
    chosen = rng.sample(products, k=min(len(products), rng.choice([1, 1, 2])))
    units = rng.randint(5, 40) if contact.customer_type == CustomerType.B2B else rng.randint(1, 2)
    amount = sum((product.unit_price * units for product in chosen), Decimal("0"))
    what = DEAL_NAMES.get(chosen[0].category, chosen[0].category.lower()) if chosen else "order"
    buyer = f"{contact.company.name}: " if contact.company_id else ""
    return f"{buyer}{units} × {what}", chosen, amount.quantize(Decimal("0.01"))


def _open_through(rng, deal: Deal, stages: list[Stage], upto: int, start: datetime.datetime, end: datetime.datetime):
    """Move an open deal through the open stages up to `stages[upto]`, at times between start and end."""
    steps = stages[1 : upto + 1]
    for n, stage in enumerate(steps, start=1):
        at = start + (end - start) * n / (len(steps) + 1) + datetime.timedelta(minutes=rng.randint(0, 300))
        deal_move(deal=deal, by=deal.owner, stage=stage, at=min(at, end))


def deals_demo(*, rng: random.Random, contact_ids: list[int]) -> dict[str, int]:
    now = timezone.now()
    sales = default_pipeline() or _pipeline("Sales", SALES_STAGES, 0)
    renewals = _pipeline("Renewals", RENEWAL_STAGES, 1)
    open_stages, won, lost = (
        _stages(sales, StageKind.OPEN),
        _stages(sales, StageKind.WON),
        _stages(sales, StageKind.LOST),
    )
    products = list(Product.objects.filter(active=True).order_by("sku"))
    contacts = list(Contact.objects.filter(pk__in=contact_ids).select_related("owner", "company").order_by("pk"))
    first_purchase = dict(
        Order.objects.filter(status=OrderStatus.PAID, contact_id__in=contact_ids)
        .values_list("contact_id")
        .annotate(first=Min("placed_at"))
    )
    count = 0
    leads = [contact for contact in contacts if contact.phase == Phase.ACQUISITION]
    for n, contact in enumerate(leads):
        if rng.random() < 0.2:
            continue
        name, chosen, amount = _offer(rng, contact, products)
        start = max(contact.created_at, now - datetime.timedelta(days=120)) + datetime.timedelta(hours=2)
        start = min(start, now - datetime.timedelta(days=2))
        deal = deal_create(
            by=contact.owner,
            contact=contact,
            name=name,
            stage=open_stages[0],
            amount=amount,
            products=chosen,
            expected_close_date=(now + datetime.timedelta(days=rng.randint(-10, 75))).date(),
            at=start,
        )
        count += 1
        # Every stage gets deals: the leads go round the open stages, and every fifth was lost.
        _open_through(rng, deal, open_stages, n % len(open_stages), start, now - datetime.timedelta(hours=1))
        if n % 5 == 4 and lost:
            at = now - datetime.timedelta(minutes=rng.randint(5, 50))
            deal_lose(deal=deal, by=deal.owner, reason=rng.choice(LOST_REASONS), stage=lost[0], at=at)
        elif n % 7 == 6 and won:
            # Won in the last days, its order still to be made from the deal's page.
            deal_win(deal=deal, by=deal.owner, stage=won[0], at=now - datetime.timedelta(minutes=rng.randint(5, 50)))

    customers = [contact for contact in contacts if contact.pk in first_purchase]
    for contact in customers:
        won_at = first_purchase[contact.pk] - datetime.timedelta(hours=rng.randint(1, 48))
        start = max(
            contact.created_at + datetime.timedelta(hours=1), won_at - datetime.timedelta(days=rng.randint(7, 40))
        )
        if start >= won_at:
            continue
        name, chosen, amount = _offer(rng, contact, products)
        deal = deal_create(
            by=contact.owner, contact=contact, name=name, stage=open_stages[0], amount=amount, products=chosen, at=start
        )
        _open_through(rng, deal, open_stages, len(open_stages) - 1, start, won_at)
        deal_win(deal=deal, by=deal.owner, stage=won[0], at=won_at)
        count += 1
        if contact.phase in (Phase.RETENTION, Phase.EXTENSION) and rng.random() < 0.25:
            name, chosen, amount = _offer(rng, contact, products)
            at = now - datetime.timedelta(days=rng.randint(3, 30))
            deal_create(
                by=contact.owner,
                contact=contact,
                name=f"Upsell: {name}",
                stage=open_stages[rng.randint(0, len(open_stages) - 1)],
                amount=amount,
                products=chosen,
                at=at,
            )
            count += 1

    plan = Product.objects.filter(sku="HOM-AMC").first()
    purifier_buyers = Contact.objects.filter(
        pk__in=contact_ids, orders__status=OrderStatus.PAID, orders__lines__product__sku="HOM-PUR"
    ).distinct()
    renewal_open = _stages(renewals, StageKind.OPEN)
    for n, contact in enumerate(purifier_buyers.select_related("owner", "company").order_by("pk")[:12]):
        if plan is None:
            break
        at = now - datetime.timedelta(days=rng.randint(5, 40))
        deal = deal_create(
            by=contact.owner,
            contact=contact,
            name="Service plan renewal",
            stage=renewal_open[0],
            amount=plan.unit_price,
            products=[plan],
            expected_close_date=(now + datetime.timedelta(days=rng.randint(5, 45))).date(),
            at=at,
        )
        _open_through(rng, deal, renewal_open, n % len(renewal_open), at, now - datetime.timedelta(hours=1))
        count += 1

    # The moves were dated in the past; so is the last change of each deal (the board's order).
    Deal.objects.update(updated_at=F("stage_entered_at"))
    return {"deals": count}
