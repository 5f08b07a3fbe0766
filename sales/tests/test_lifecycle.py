"""The lifecycle moving by itself: purchases, refunds, win-back and the nightly churn, at their edges."""

import datetime
import zoneinfo

import pytest

from contacts.models import Activity, ActivityKind, Contact, Phase, PhaseChange
from contacts.services import contact_create, phase_change
from sales import lifecycle
from sales.models import RelationKind
from sales.services import order_create, order_mark_paid, order_refund, product_relation_set
from sales.tests.factories import ProductFactory, paid_order

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


def ist(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=IST)


@pytest.fixture
def customer(org):
    """A lead (acquisition) since the start of 2024."""
    return contact_create(
        by=org.rep_a1, given_name="Kavya", family_name="Hegde", phase=Phase.ACQUISITION, at=ist(2024, 1, 1, 10, 0)
    )


def phase_of(contact) -> str:
    return Contact.objects.values_list("phase", flat=True).get(pk=contact.pk)


def last_move(contact) -> PhaseChange:
    return PhaseChange.objects.filter(contact=contact).order_by("-at", "-id").first()


# Purchases -----------------------------------------------------------------------------


def test_first_paid_order_moves_a_lead_into_retention_dated_when_paid(customer):
    order = order_create(
        by=customer.owner,
        contact=customer,
        lines=[{"product": ProductFactory()}],
        placed_at=ist(2025, 3, 10, 11, 0),
    )
    assert phase_of(customer) == Phase.ACQUISITION  # placed is not bought

    order_mark_paid(order=order, by=customer.owner, at=ist(2025, 3, 10, 11, 5))

    move = last_move(customer)
    assert (move.from_phase, move.to_phase, move.rule) == (Phase.ACQUISITION, Phase.RETENTION, "first-purchase")
    assert move.at == ist(2025, 3, 10, 11, 5) and order.number in move.reason
    assert Activity.objects.filter(contact=customer, kind=ActivityKind.PHASE, at=move.at).exists()
    assert (
        Activity.objects.filter(contact=customer, kind=ActivityKind.ORDER, ref=f"sales.order:{order.pk}").count() == 2
    )


def test_a_move_is_never_dated_before_the_contact_entered_its_phase(org):
    lead = contact_create(by=org.rep_a1, given_name="Late", phase=Phase.ACQUISITION, at=ist(2025, 6, 1, 9, 0))
    paid_order(lead, at=ist(2025, 5, 1, 12, 0))  # an order from before the contact was entered
    assert last_move(lead).at == ist(2025, 6, 1, 9, 0)


def test_second_purchase_in_the_same_month_keeps_retention(customer):
    paid_order(customer, at=ist(2025, 3, 1, 10, 0))
    paid_order(customer, at=ist(2025, 3, 31, 23, 59))
    assert phase_of(customer) == Phase.RETENTION


def test_purchase_in_a_later_month_moves_into_extension(customer):
    paid_order(customer, at=ist(2025, 3, 20, 10, 0))
    order = paid_order(customer, at=ist(2025, 4, 2, 10, 0))
    move = last_move(customer)
    assert (move.to_phase, move.rule) == (Phase.EXTENSION, "repeat-purchase")
    assert order.number in move.reason and "2025-03" in move.reason


def test_the_month_is_the_business_month_not_the_utc_one(customer):
    paid_order(customer, at=ist(2025, 1, 31, 23, 30))
    # 00:30 on 1 February in India is still 31 January in UTC: a later month all the same.
    paid_order(customer, at=ist(2025, 2, 1, 0, 30))
    assert phase_of(customer) == Phase.EXTENSION


def test_orders_on_the_first_and_last_day_of_a_business_month_are_one_period(customer):
    paid_order(customer, at=ist(2025, 1, 1, 0, 30))  # 31 December 2024 in UTC
    paid_order(customer, at=ist(2025, 1, 31, 23, 30))
    assert phase_of(customer) == Phase.RETENTION


@pytest.mark.parametrize(("kind", "rule"), [(RelationKind.CROSS_SELL, "cross-sell"), (RelationKind.UPSELL, "upsell")])
def test_buying_an_offered_product_moves_into_extension_in_the_same_month(customer, kind, rule):
    phone, case = ProductFactory(name="Phone"), ProductFactory(name="Phone case")
    product_relation_set(from_product=phone, to_product=case, kind=kind, by=customer.owner)
    paid_order(customer, phone, at=ist(2025, 5, 3, 12, 0))
    paid_order(customer, case, at=ist(2025, 5, 9, 12, 0))
    move = last_move(customer)
    assert (move.to_phase, move.rule) == (Phase.EXTENSION, rule)
    assert "Phone case" in move.reason and "Phone" in move.reason


def test_an_offered_product_in_the_same_order_is_not_bought_before(customer):
    phone, case = ProductFactory(), ProductFactory()
    product_relation_set(from_product=phone, to_product=case, kind=RelationKind.CROSS_SELL, by=customer.owner)
    paid_order(customer, phone, case, at=ist(2025, 5, 3, 12, 0))
    assert phase_of(customer) == Phase.RETENTION


def test_a_suggestion_nobody_accepted_does_not_count(customer):
    from sales.models import ProductRelation, RelationSource

    phone, case = ProductFactory(), ProductFactory()
    ProductRelation.objects.create(from_product=phone, to_product=case, source=RelationSource.SUGGESTED, lift=3.0)
    paid_order(customer, phone, at=ist(2025, 5, 3, 12, 0))
    paid_order(customer, case, at=ist(2025, 5, 4, 12, 0))
    assert phase_of(customer) == Phase.RETENTION


def test_extension_stays_with_further_purchases(customer):
    for month in (1, 2, 3):
        paid_order(customer, at=ist(2025, month, 5, 12, 0))
    assert phase_of(customer) == Phase.EXTENSION
    assert PhaseChange.objects.filter(contact=customer, to_phase=Phase.EXTENSION).count() == 1


def test_a_manual_move_is_respected_by_the_rules(customer, org):
    phase_change(contact=customer, to=Phase.SELECTION, by=org.rep_a1, reason="Wrong segment", at=ist(2024, 2, 1, 9))
    paid_order(customer, at=ist(2025, 1, 5, 12, 0))
    assert (last_move(customer).from_phase, phase_of(customer)) == (Phase.SELECTION, Phase.RETENTION)


# Refunds -------------------------------------------------------------------------------


def test_refund_of_the_only_purchase_moves_back_to_acquisition(customer):
    order = paid_order(customer, at=ist(2025, 3, 1, 10, 0))
    order_refund(order=order, by=customer.owner, reason="Damaged", at=ist(2025, 3, 4, 10, 0))
    move = last_move(customer)
    assert (move.from_phase, move.to_phase, move.rule) == (Phase.RETENTION, Phase.ACQUISITION, "refund")
    assert move.at == ist(2025, 3, 4, 10, 0)


def test_refund_with_other_purchases_moves_nothing(customer):
    paid_order(customer, at=ist(2025, 3, 1, 10, 0))
    second = paid_order(customer, at=ist(2025, 3, 2, 10, 0))
    order_refund(order=second, by=customer.owner)
    assert phase_of(customer) == Phase.RETENTION


def test_a_refunded_order_does_not_count_as_an_earlier_purchase(customer):
    january = paid_order(customer, at=ist(2025, 1, 10, 10, 0))
    order_refund(order=january, by=customer.owner, at=ist(2025, 1, 12, 10, 0))
    paid_order(customer, at=ist(2025, 2, 10, 10, 0))
    move = last_move(customer)
    assert (move.from_phase, move.to_phase, move.rule) == (Phase.ACQUISITION, Phase.RETENTION, "first-purchase")


def test_refunding_twice_does_nothing_the_second_time(customer):
    order = paid_order(customer, at=ist(2025, 1, 10, 10, 0))
    assert order_refund(order=order, by=customer.owner) is True
    assert order_refund(order=order, by=customer.owner) is False
    assert PhaseChange.objects.filter(contact=customer, rule="refund").count() == 1


# The nightly churn ---------------------------------------------------------------------


def test_a_purchase_keeps_the_customer_through_the_last_day_of_the_window(customer):
    paid_order(customer, at=ist(2025, 1, 10, 15, 0))
    # 365 days after 10 January 2025 is 10 January 2026: the last day of the window.
    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 10, 23, 59, 59)) == 0
    assert phase_of(customer) == Phase.RETENTION

    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 11, 0, 0)) == 1
    move = last_move(customer)
    assert (move.from_phase, move.to_phase, move.rule, move.by) == (Phase.RETENTION, Phase.CHURNED, "churn", None)
    assert move.at == ist(2026, 1, 11, 0, 0)
    assert "365" in move.reason and "2025-01-10" in move.reason


def test_an_order_at_23_30_on_the_last_day_of_the_window_keeps_the_customer(customer):
    paid_order(customer, at=ist(2025, 1, 10, 15, 0))
    paid_order(customer, at=ist(2026, 1, 10, 23, 30))  # 18:00 UTC, the window's last day in India
    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 11, 1, 15)) == 0
    assert phase_of(customer) == Phase.EXTENSION
    assert lifecycle.lifecycle_churn(now=ist(2027, 1, 11, 0, 0)) == 1


def test_the_churn_window_counts_business_days_not_utc_days(customer):
    # 00:30 on 1 January 2025 in India is 31 December 2024 in UTC.
    paid_order(customer, at=ist(2025, 1, 1, 0, 30))
    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 1, 23, 59)) == 0
    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 2, 0, 0)) == 1


def test_a_refunded_order_does_not_hold_the_churn_clock(customer):
    paid_order(customer, at=ist(2025, 1, 10, 15, 0))
    june = paid_order(customer, at=ist(2025, 6, 10, 15, 0))
    order_refund(order=june, by=customer.owner, at=ist(2025, 6, 20, 15, 0))
    assert lifecycle.lifecycle_churn(now=ist(2026, 1, 11, 0, 0)) == 1
    assert "2025-01-10" in last_move(customer).reason


def test_the_churn_job_is_idempotent(customer):
    paid_order(customer, at=ist(2024, 3, 1, 12, 0))
    now = ist(2025, 6, 1, 1, 15)
    assert lifecycle.lifecycle_churn(now=now) == 1
    assert lifecycle.lifecycle_churn(now=now) == 0
    assert lifecycle.lifecycle_churn(now=now + datetime.timedelta(days=1)) == 0
    assert PhaseChange.objects.filter(contact=customer, to_phase=Phase.CHURNED).count() == 1
    assert Activity.objects.filter(contact=customer, kind=ActivityKind.PHASE, summary__contains="Churned").count() == 1


def test_churn_is_dated_when_the_window_ran_out_even_if_the_job_runs_late(customer):
    paid_order(customer, at=ist(2024, 3, 1, 12, 0))
    lifecycle.lifecycle_churn(now=ist(2025, 6, 1, 1, 15))
    assert last_move(customer).at == ist(2025, 3, 2, 0, 0)
    assert Contact.objects.get(pk=customer.pk).phase_changed_at == ist(2025, 3, 2, 0, 0)


def test_the_churn_job_moves_every_lapsed_customer_in_one_go(org, django_assert_max_num_queries):
    start = ist(2024, 1, 1, 9, 0)
    lapsed = [
        contact_create(by=org.rep_a1, given_name=f"Lapsed {n}", phase=Phase.ACQUISITION, at=start) for n in range(30)
    ]
    for contact in lapsed:
        paid_order(contact, at=ist(2024, 2, 1, 12, 0))
    recent = contact_create(by=org.rep_b1, given_name="Recent", phase=Phase.ACQUISITION, at=start)
    paid_order(recent, at=ist(2025, 5, 1, 12, 0))
    lead = contact_create(by=org.rep_b1, given_name="Lead", phase=Phase.ACQUISITION, at=start)
    # A customer by a manual move, with no order in the CRM: the clock starts when they became one.
    by_hand = contact_create(by=org.rep_b1, given_name="By hand", phase=Phase.ACQUISITION, at=start)
    phase_change(contact=by_hand, to=Phase.RETENTION, by=org.rep_b1, at=ist(2024, 1, 15, 9, 0))

    with django_assert_max_num_queries(6):
        moved = lifecycle.lifecycle_churn(now=ist(2025, 6, 1, 1, 15))

    assert moved == 31
    assert set(Contact.objects.filter(phase=Phase.CHURNED).values_list("pk", flat=True)) == {
        *(contact.pk for contact in lapsed),
        by_hand.pk,
    }
    assert phase_of(recent) == Phase.RETENTION and phase_of(lead) == Phase.ACQUISITION
    assert PhaseChange.objects.filter(to_phase=Phase.CHURNED, rule="churn").count() == 31
    assert Activity.objects.filter(kind=ActivityKind.PHASE, summary="Retention → Churned").count() == 31
    assert "since becoming a customer on 2024-01-15" in last_move(by_hand).reason


def test_the_churn_window_is_a_setting(customer, settings):
    settings.CHURN_WINDOW_DAYS = 30
    paid_order(customer, at=ist(2025, 1, 10, 15, 0))
    assert lifecycle.lifecycle_churn(now=ist(2025, 2, 9, 23, 0)) == 0
    assert lifecycle.lifecycle_churn(now=ist(2025, 2, 10, 0, 0)) == 1


def test_a_purchase_after_churn_is_a_win_back(customer):
    paid_order(customer, at=ist(2024, 3, 1, 12, 0))
    lifecycle.lifecycle_churn(now=ist(2025, 6, 1, 1, 15))
    order = paid_order(customer, at=ist(2025, 6, 5, 12, 0))
    move = last_move(customer)
    assert (move.from_phase, move.to_phase, move.rule) == (Phase.CHURNED, Phase.RETENTION, "win-back")
    assert "win-back" in move.reason and order.number in move.reason


def test_a_won_back_customer_whose_order_is_refunded_churns_again_at_night(customer):
    paid_order(customer, at=ist(2024, 3, 1, 12, 0))
    lifecycle.lifecycle_churn(now=ist(2025, 6, 1, 1, 15))
    order = paid_order(customer, at=ist(2025, 6, 5, 12, 0))
    order_refund(order=order, by=customer.owner, at=ist(2025, 6, 6, 12, 0))
    assert phase_of(customer) == Phase.RETENTION  # other purchases exist: the refund alone moves nothing
    assert lifecycle.lifecycle_churn(now=ist(2025, 6, 7, 1, 15)) == 1
    # The window ran out before the win-back: the churn is dated when the job found it.
    assert (phase_of(customer), last_move(customer).at) == (Phase.CHURNED, ist(2025, 6, 7, 1, 15))


@pytest.mark.django_db(transaction=True)
def test_a_purchase_paid_while_the_churn_job_runs_is_not_churned_away(org):
    import threading

    from django.db import connection, transaction

    customer = contact_create(by=org.rep_a1, given_name="Paying", phase=Phase.ACQUISITION, at=ist(2024, 1, 1, 9))
    paid_order(customer, at=ist(2024, 2, 1, 12, 0))
    paid_order(customer, at=ist(2024, 3, 1, 12, 0))
    assert phase_of(customer) == Phase.EXTENSION  # so the purchase below moves nothing
    order = order_create(
        by=customer.owner, contact=customer, lines=[{"product": ProductFactory()}], placed_at=ist(2025, 6, 1, 0, 5)
    )
    paid, release, results = threading.Event(), threading.Event(), {}

    def pay():
        try:
            with transaction.atomic():
                order_mark_paid(order=order, by=customer.owner, at=ist(2025, 6, 1, 0, 10))
                paid.set()
                release.wait(10)  # the payment's transaction is still open when the job starts
        finally:
            connection.close()

    def churn():
        try:
            results["moved"] = lifecycle.lifecycle_churn(now=ist(2025, 6, 1, 1, 15))
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    payer.start()
    assert paid.wait(10)
    job = threading.Thread(target=churn)
    job.start()
    job.join(0.5)
    assert job.is_alive()  # waiting for the purchase to commit
    release.set()
    payer.join(10)
    job.join(10)
    assert results["moved"] == 0
    assert phase_of(customer) == Phase.EXTENSION
