"""The demo data of the sales app: orders consistent with each contact's lifecycle history."""

import datetime
import itertools
from collections import Counter

import pytest
from django.db.models import Min
from django.utils import timezone

from contacts.models import Contact, Phase, PhaseChange
from crm.demo import seed_demo
from sales.lifecycle import business_zone
from sales.models import Order, OrderStatus, ProductRelation

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import connection, transaction

        transaction.set_autocommit(False)
        try:
            yield seed_demo(contacts=150)
        finally:
            transaction.rollback()
            transaction.set_autocommit(True)
            connection.close()


def test_every_customer_got_there_through_its_orders(demo):
    customers = Contact.objects.filter(phase__in=[Phase.RETENTION, Phase.EXTENSION, Phase.CHURNED])
    assert customers.count() > 30
    assert not customers.filter(orders__isnull=True).exists()
    by_rule = Counter(PhaseChange.objects.exclude(rule="").values_list("rule", flat=True))
    assert {"first-purchase", "repeat-purchase", "churn", "win-back"} <= set(by_rule)
    assert by_rule["cross-sell"] + by_rule["upsell"] > 0


def test_each_history_is_an_unbroken_chain_in_time_order(demo):
    history: dict[int, list[PhaseChange]] = {}
    for change in PhaseChange.objects.order_by("contact", "at", "id"):
        history.setdefault(change.contact_id, []).append(change)
    phases = dict(Contact.objects.values_list("pk", "phase"))
    for contact_id, changes in history.items():
        assert changes[0].from_phase == ""
        for before, after in itertools.pairwise(changes):
            assert after.from_phase == before.to_phase, contact_id
        assert changes[-1].to_phase == phases[contact_id]
    created = dict(Contact.objects.values_list("pk", "created_at"))
    first_orders = Order.objects.values("contact").annotate(first=Min("placed_at"))
    assert all(created[row["contact"]] < row["first"] for row in first_orders)


def test_three_years_of_orders_with_a_diwali_peak(demo):
    now = timezone.now()
    placed = list(Order.objects.values_list("placed_at", flat=True))
    assert min(placed) >= now - datetime.timedelta(days=3 * 365 + 1) and max(placed) <= now
    per_month = Counter(at.astimezone(business_zone()).strftime("%Y-%m") for at in placed)
    average = len(placed) / len(per_month)
    assert per_month["2025-10"] > 2 * average and per_month["2024-10"] + per_month["2024-11"] > 2 * average
    assert set(Order.objects.values_list("status", flat=True).distinct()) == set(OrderStatus.values)


def test_the_suggestion_job_found_products_bought_together(demo):
    assert ProductRelation.objects.filter(source="suggested", accepted=False).exists()
    assert ProductRelation.objects.filter(source="manual", accepted=True).count() == 6
