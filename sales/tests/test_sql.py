"""The hand-written SQL of the sales app against a plain recount in Python."""

import datetime
import itertools
import random
import zoneinfo
from collections import Counter

import pytest
from django.utils import timezone

from contacts.models import Contact, Phase
from contacts.services import contact_create
from sales import lifecycle, sql
from sales.models import Order, OrderLine, OrderStatus, ProductRelation, RelationKind, RelationSource
from sales.services import order_create, order_refund, product_relation_set, suggestions_refresh
from sales.tests.factories import ProductFactory, paid_order

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


def recount_pairs(basket: str) -> dict[tuple[int, int], tuple[int, float, float, float]]:
    """Products bought together, counted the plain way from the paid orders."""
    baskets: dict[int, set[int]] = {}
    for line in OrderLine.objects.filter(order__status=OrderStatus.PAID).select_related("order"):
        key = line.order_id if basket == "order" else line.order.contact_id
        baskets.setdefault(key, set()).add(line.product_id)
    items = Counter(product for products in baskets.values() for product in products)
    together = Counter(pair for products in baskets.values() for pair in itertools.permutations(products, 2))
    n = len(baskets)
    return {
        (a, b): (count, count / n, count / items[a], count * n / (items[a] * items[b]))
        for (a, b), count in together.items()
    }


@pytest.fixture
def orders_at_random(org):
    """Forty contacts, a hundred-odd orders of random products; some refunded, some never paid."""
    rng = random.Random(7)
    products = [ProductFactory() for _ in range(7)]
    start = datetime.datetime(2025, 1, 1, 10, tzinfo=IST)
    contacts = [
        contact_create(by=org.rep_a1, given_name=f"Buyer {n}", phase=Phase.ACQUISITION, at=start) for n in range(40)
    ]
    for n in range(120):
        contact = rng.choice(contacts)
        chosen = rng.sample(products[:4] if rng.random() < 0.6 else products, rng.randint(1, 4))
        at = start + datetime.timedelta(days=rng.randrange(300), minutes=n)
        order = order_create(
            by=org.rep_a1,
            contact=contact,
            lines=[{"product": product} for product in chosen],
            placed_at=at,
            paid_at=at if rng.random() < 0.9 else None,
        )
        if order.status == OrderStatus.PAID and rng.random() < 0.1:
            order_refund(order=order, by=org.rep_a1, at=at + datetime.timedelta(days=1))
    return products


@pytest.mark.parametrize("basket", ["order", "contact"])
def test_products_bought_together_match_a_plain_recount(orders_at_random, basket):
    expected = recount_pairs(basket)
    found = {
        (a, b): (n, support, confidence, lift)
        for a, b, n, support, confidence, lift in sql.products_bought_together(basket=basket, min_together=1)
    }
    assert found.keys() == expected.keys() and found
    for pair, (n, support, confidence, lift) in expected.items():
        assert found[pair][0] == n
        assert found[pair][1:] == pytest.approx((support, confidence, lift))


def test_refresh_suggests_only_pairs_often_together_and_above_chance(orders_at_random):
    suggestions_refresh()
    expected = {
        pair for pair, (n, _s, _c, lift) in recount_pairs("order").items() if n >= sql.MIN_TOGETHER and lift > 1
    }
    rows = ProductRelation.objects.all()
    assert {(row.from_product_id, row.to_product_id) for row in rows} == expected
    assert all(row.source == RelationSource.SUGGESTED and row.is_pending for row in rows)


def test_refresh_keeps_decisions_and_updates_figures(org):
    phone, case, charger, other = (ProductFactory() for _ in range(4))
    customers = [contact_create(by=org.rep_a1, given_name=f"C{n}", phase=Phase.ACQUISITION) for n in range(6)]
    now = timezone.now()
    for contact in customers[:4]:
        paid_order(contact, phone, case, charger, at=now)
    for contact in customers[4:]:
        paid_order(contact, other, at=now)
    accepted = product_relation_set(from_product=phone, to_product=case, kind=RelationKind.UPSELL, by=org.admin)
    dismissed = ProductRelation.objects.create(
        from_product=phone, to_product=charger, source=RelationSource.SUGGESTED, dismissed_at=now
    )
    stale = ProductRelation.objects.create(from_product=other, to_product=phone, source=RelationSource.SUGGESTED)

    suggestions_refresh()

    accepted.refresh_from_db()
    dismissed.refresh_from_db()
    assert (accepted.kind, accepted.source, accepted.accepted) == ("upsell", "manual", True)
    assert accepted.together_count == 4 and accepted.lift == pytest.approx(6 / 4)
    assert dismissed.dismissed_at == now and not dismissed.accepted and dismissed.lift == pytest.approx(1.5)
    assert not ProductRelation.objects.filter(pk=stale.pk).exists()
    assert ProductRelation.objects.filter(from_product=case, to_product=charger, accepted=False).exists()

    # Once the pair is no longer bought together, a decided row keeps the decision without figures.
    Order.objects.filter(lines__product=case).update(status=OrderStatus.CANCELLED, cancelled_at=now)
    suggestions_refresh()
    accepted.refresh_from_db()
    assert accepted.accepted and accepted.lift is None
    assert not ProductRelation.objects.filter(from_product=case, to_product=charger).exists()


def test_refresh_twice_changes_nothing_more(orders_at_random):
    first = suggestions_refresh()
    rows = list(ProductRelation.objects.order_by("id").values_list("id", "lift", "support", "confidence"))
    second = suggestions_refresh()
    assert first["upserted"] == second["upserted"] and second["removed"] == 0
    assert list(ProductRelation.objects.order_by("id").values_list("id", "lift", "support", "confidence")) == rows


def test_the_churn_statement_matches_a_recount_contact_by_contact(orders_at_random):
    now = datetime.datetime(2026, 2, 1, 1, 15, tzinfo=IST)
    customers = Contact.objects.filter(phase__in=[Phase.RETENTION, Phase.EXTENSION])
    expected = set()
    for contact in customers:
        last = Order.objects.purchases().filter(contact=contact).order_by("-placed_at").first()
        clock = last.placed_at if last else contact.phase_changed_at
        if lifecycle.churn_lapse_at(clock) <= now:
            expected.add(contact.pk)
    assert expected and expected != set(customers.values_list("pk", flat=True))

    assert lifecycle.lifecycle_churn(now=now) == len(expected)
    assert set(Contact.objects.filter(phase=Phase.CHURNED).values_list("pk", flat=True)) == expected
