"""The loyalty programme: tier rules at their edges, the set-based nightly recompute against a plain
recount, reward codes (issue, redeem, refused, two requests at once), its pages and the access rule."""

import datetime
import random
import re
import threading
import time
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.merge import contact_merge
from contacts.models import Activity, ActivityKind, Contact, Phase
from contacts.services import contact_create
from crm.testing import assert_access
from sales import loyalty, sql_loyalty
from sales.models import (
    ContactTier,
    LoyaltyTier,
    OrderStatus,
    RewardCode,
    RewardKind,
    TierChange,
)
from sales.services import LineInput, order_cancel, order_create, order_refund
from sales.tasks import tiers_recompute_task
from sales.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
CODE_FORMAT = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


# Helpers --------------------------------------------------------------------------------


@pytest.fixture
def tiers(db):
    return {
        "bronze": LoyaltyTier.objects.create(name="Bronze", rank=1, min_spend=Decimal("0"), min_purchase_count=1),
        "silver": LoyaltyTier.objects.create(
            name="Silver", rank=2, min_spend=Decimal("10000.00"), min_purchase_count=2
        ),
        "gold": LoyaltyTier.objects.create(name="Gold", rank=3, min_spend=Decimal("50000.00"), min_purchase_count=3),
    }


def person(owner, name="Sneha Kulkarni"):
    return contact_create(by=owner, given_name=name, phase=Phase.ACQUISITION)


def buy(contact, amount, *, at=None, paid=True, currency=None):
    """An order of one product costing `amount`, placed (and paid) at `at`, through the real service."""
    at = at or timezone.now() - datetime.timedelta(days=1)
    line = LineInput(product=ProductFactory(unit_price=Decimal(amount)), unit_price=Decimal(amount))
    return order_create(
        by=contact.owner,
        contact=contact,
        lines=[line],
        placed_at=at,
        paid_at=at if paid else None,
        currency=currency,
    )


def tier_of(contact):
    held = ContactTier.objects.filter(contact=contact).select_related("tier").first()
    return held.tier.name if held else None


def recount(now) -> dict[int, int]:
    """The rule applied contact by contact, the slow and obvious way."""
    active = loyalty.active_tiers()
    expected = {}
    for contact in Contact.objects.all():
        standing = loyalty.contact_standing(contact=contact, now=now)
        tier = loyalty.tier_for(spend=standing.spend, purchases=standing.purchases, tiers=active)
        if tier is not None:
            expected[contact.pk] = tier.pk
    return expected


def issue(contact, *, by=None, kind=RewardKind.PERCENT, value="10", days=30, **kwargs):
    return loyalty.code_issue(
        contact=contact,
        by=by or contact.owner,
        kind=kind,
        value=Decimal(value),
        expires_at=timezone.now() + datetime.timedelta(days=days),
        **kwargs,
    )


# Tier rules -----------------------------------------------------------------------------


def test_a_contact_exactly_at_the_minimum_spend_gets_the_tier(org, tiers):
    at_threshold, just_below = person(org.rep_a1, "At"), person(org.rep_a1, "Below")
    buy(at_threshold, "4000.00")
    buy(at_threshold, "6000.00")
    buy(just_below, "4000.00")
    buy(just_below, "5999.99")

    loyalty.tiers_recompute()

    assert tier_of(at_threshold) == "Silver"
    assert tier_of(just_below) == "Bronze"


def test_a_tier_needs_both_its_spend_and_its_purchase_count(org, tiers):
    big_once = person(org.rep_a1, "Big once")
    buy(big_once, "90000.00")
    often_small = person(org.rep_a1, "Often small")
    for _ in range(5):
        buy(often_small, "100.00")

    loyalty.tiers_recompute()

    assert tier_of(big_once) == "Bronze"  # gold's spend, but one purchase
    assert tier_of(often_small) == "Bronze"  # gold's count, but ₹500 spent


def test_no_purchase_no_tier(org, tiers):
    prospect = person(org.rep_a1)
    buy(prospect, "50000.00", paid=False)

    loyalty.tiers_recompute()

    assert tier_of(prospect) is None and not TierChange.objects.exists()


def test_the_window_starts_at_midnight_of_the_same_date_a_year_ago_in_business_time():
    run = datetime.datetime(2026, 11, 20, 1, 30, tzinfo=IST)
    assert loyalty.window_start(run) == datetime.datetime(2025, 11, 20, 0, 0, tzinfo=IST)
    # 00:30 on 20 November in India is still 19 November in UTC: the business's date counts.
    assert loyalty.window_start(datetime.datetime(2026, 11, 19, 19, 0, tzinfo=datetime.UTC)) == datetime.datetime(
        2025, 11, 20, tzinfo=IST
    )
    assert loyalty.window_start(datetime.datetime(2028, 2, 29, 9, 0, tzinfo=IST)) == datetime.datetime(
        2027, 2, 28, tzinfo=IST
    )


def test_an_order_placed_12_months_ago_to_the_day_counts_and_one_the_day_before_does_not(org, tiers):
    now = timezone.now()
    start = loyalty.window_start(now)
    on_the_day, day_before = person(org.rep_a1, "On the day"), person(org.rep_a1, "Day before")
    buy(on_the_day, "9000.00", at=start)
    buy(on_the_day, "1000.00", at=now - datetime.timedelta(days=2))
    buy(day_before, "9000.00", at=start - datetime.timedelta(seconds=1))
    buy(day_before, "1000.00", at=now - datetime.timedelta(days=2))

    loyalty.tiers_recompute(now=now)

    assert tier_of(on_the_day) == "Silver"
    assert tier_of(day_before) == "Bronze"


def test_refunded_cancelled_and_unpaid_orders_do_not_count(org, tiers):
    contact = person(org.rep_a1)
    buy(contact, "30000.00")
    order_refund(order=buy(contact, "30000.00"), by=org.rep_a1)
    order_cancel(order=buy(contact, "30000.00", paid=False), by=org.rep_a1)
    buy(contact, "30000.00", paid=False)

    loyalty.tiers_recompute()

    assert tier_of(contact) == "Bronze"
    assert loyalty.contact_standing(contact=contact).purchases == 1


def test_spend_counts_the_default_currency_only_and_the_count_counts_every_purchase(org, tiers):
    contact = person(org.rep_a1)
    buy(contact, "60000.00", currency="USD")
    buy(contact, "6000.00")
    buy(contact, "6000.00")

    loyalty.tiers_recompute()

    assert tier_of(contact) == "Silver"  # 3 purchases, ₹12,000 (the USD order is not converted)
    assert loyalty.contact_standing(contact=contact).spend == Decimal("12000.00")


def test_the_set_based_recompute_gives_the_tiers_of_a_plain_recount(org, tiers):
    rng = random.Random(4)
    now = timezone.now()
    owners = [org.rep_a1, org.rep_b1, org.manager_a]
    for n in range(40):
        contact = person(rng.choice(owners), f"Buyer {n}")
        for _ in range(rng.randint(0, 5)):
            at = now - datetime.timedelta(days=rng.randint(1, 500), hours=rng.randint(0, 23))
            order = buy(contact, f"{rng.randint(500, 30000)}.00", at=at, paid=rng.random() < 0.85)
            if order.status == OrderStatus.PAID and rng.random() < 0.1:
                order_refund(order=order, by=org.admin)
    LoyaltyTier.objects.create(name="Retired", rank=9, min_spend=Decimal("1"), min_purchase_count=1, active=False)

    changed = loyalty.tiers_recompute(now=now)

    expected = recount(now)
    assert dict(ContactTier.objects.values_list("contact_id", "tier_id")) == expected
    assert changed == len(expected) == TierChange.objects.count()
    standings = sql_loyalty.standings(now=now, since=loyalty.window_start(now), currency="INR")
    for contact_id, (spend, purchases, _tier_id) in standings.items():
        standing = loyalty.contact_standing(contact=Contact.objects.get(pk=contact_id), now=now)
        assert (spend, purchases) == (standing.spend, standing.purchases)


def test_a_second_run_changes_nothing(org, tiers):
    for n in range(5):
        contact = person(org.rep_a1, f"Buyer {n}")
        for _ in range(n):
            buy(contact, "20000.00")
    first = loyalty.tiers_recompute()
    history, timeline = TierChange.objects.count(), Activity.objects.filter(kind=ActivityKind.LOYALTY).count()
    since = dict(ContactTier.objects.values_list("contact_id", "since"))

    second = loyalty.tiers_recompute()

    assert first == 4 and second == 0
    assert TierChange.objects.count() == history == 4
    assert Activity.objects.filter(kind=ActivityKind.LOYALTY).count() == timeline == 4
    assert dict(ContactTier.objects.values_list("contact_id", "since")) == since


def test_each_change_is_recorded_with_its_history_and_timeline_item(org, tiers):
    contact = person(org.rep_a1)
    first = buy(contact, "8000.00", at=timezone.now() - datetime.timedelta(days=30))
    loyalty.tiers_recompute(now=timezone.now() - datetime.timedelta(days=20))
    buy(contact, "8000.00", at=timezone.now() - datetime.timedelta(days=10))
    loyalty.tiers_recompute(now=timezone.now() - datetime.timedelta(days=5))
    order_refund(order=first, by=org.rep_a1)
    loyalty.tiers_recompute()

    moves = [
        (c.from_tier and c.from_tier.name, c.to_tier and c.to_tier.name, c.purchase_count, c.spend)
        for c in TierChange.objects.filter(contact=contact).order_by("at")
    ]
    assert moves == [
        (None, "Bronze", 1, Decimal("8000.00")),
        ("Bronze", "Silver", 2, Decimal("16000.00")),
        ("Silver", "Bronze", 1, Decimal("8000.00")),
    ]
    summaries = list(
        Activity.objects.filter(contact=contact, kind=ActivityKind.LOYALTY)
        .order_by("at")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "Loyalty tier: Bronze",
        "Loyalty tier up: Bronze → Silver",
        "Loyalty tier down: Silver → Bronze",
    ]
    assert ContactTier.objects.get(contact=contact).since > timezone.now() - datetime.timedelta(minutes=1)


def test_a_contact_whose_purchases_left_the_window_loses_the_tier(org, tiers):
    contact = person(org.rep_a1)
    buy(contact, "5000.00", at=timezone.now() - datetime.timedelta(days=300))
    loyalty.tiers_recompute()

    loyalty.tiers_recompute(now=timezone.now() + datetime.timedelta(days=100))

    assert tier_of(contact) is None
    lost = TierChange.objects.get(contact=contact, to_tier=None)
    assert lost.from_tier == tiers["bronze"] and lost.purchase_count == 0
    assert Activity.objects.filter(contact=contact, summary="Loyalty tier Bronze lapsed").exists()


def test_holders_of_a_tier_taken_out_of_use_move_at_the_next_run(org, tiers):
    contact = person(org.rep_a1)
    for _ in range(3):
        buy(contact, "20000.00")
    loyalty.tiers_recompute()
    assert tier_of(contact) == "Gold"

    LoyaltyTier.objects.filter(pk=tiers["gold"].pk).update(active=False)
    loyalty.tiers_recompute()

    assert tier_of(contact) == "Silver"


def test_merging_contacts_with_tiers_keeps_one_tier_and_all_history(org, tiers):
    keep, other = person(org.rep_a1, "Ravi"), person(org.rep_a1, "Ravi K")
    buy(keep, "1000.00")
    for _ in range(2):
        buy(other, "9000.00")
    loyalty.tiers_recompute()

    contact_merge(keep=keep, others=[other], by=org.rep_a1)
    loyalty.tiers_recompute()

    assert tier_of(keep) == "Silver"  # three purchases, ₹19,000 now on one record
    assert TierChange.objects.filter(contact=keep).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_worker_recomputes_the_tiers_once_however_often_the_job_runs(org, tiers, celery_worker):
    contact = person(org.rep_a1)
    buy(contact, "20000.00")
    buy(contact, "20000.00")

    results = [tiers_recompute_task.delay() for _ in range(2)]

    assert sorted(result.get(timeout=30) for result in results) == [0, 1]
    assert tier_of(contact) == "Silver"
    assert TierChange.objects.filter(contact=contact).count() == 1


def test_the_recompute_is_scheduled_nightly():
    from crm.management.commands.setup_periodic_tasks import PERIODIC_TASKS

    task, schedule = PERIODIC_TASKS["Recompute loyalty tiers"]
    assert task == "sales.tasks.tiers_recompute_task" and int(schedule["hour"]) < 6


# Reward codes ---------------------------------------------------------------------------


def test_codes_are_random_unambiguous_and_typed_back_in_any_case():
    codes = {loyalty.code_generate() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE_FORMAT.match(code) for code in codes)
    assert loyalty.code_normalise(" k7qm 2xhd-9wpa ") == "K7QM-2XHD-9WPA"


def test_a_code_issued_to_a_contact_is_on_their_timeline(org):
    contact = person(org.rep_a1)

    reward = issue(contact, by=org.manager_a, value="15", reason="Birthday")

    assert CODE_FORMAT.match(reward.code) and reward.contact == contact and reward.issued_by == org.manager_a
    item = Activity.objects.get(contact=contact, kind=ActivityKind.LOYALTY)
    assert item.summary == "Reward code issued: 15 % off" and "Birthday" in item.body
    assert reward.code not in item.summary + item.body


@pytest.mark.parametrize(
    ("kind", "value", "days", "field"),
    [
        (RewardKind.PERCENT, "101", 30, "value"),
        (RewardKind.AMOUNT, "0", 30, "value"),
        (RewardKind.AMOUNT, "-5", 30, "value"),
        (RewardKind.PERCENT, "10", -1, "expires_at"),
        ("free", "10", 30, "kind"),
    ],
)
def test_a_code_with_bad_terms_is_refused_and_nothing_is_written(org, kind, value, days, field):
    contact = person(org.rep_a1)
    with pytest.raises(ValidationError) as refused:
        issue(contact, kind=kind, value=value, days=days)
    assert field in refused.value.message_dict
    assert not RewardCode.objects.exists() and not Activity.objects.filter(kind=ActivityKind.LOYALTY).exists()


def test_codes_issued_to_a_tier_give_each_holder_one_code_of_their_own(org, tiers):
    holders = [person(org.rep_a1, f"Holder {n}") for n in range(3)] + [person(org.rep_b1, "Other team")]
    for contact in holders:
        buy(contact, "1000.00")
    loyalty.tiers_recompute()

    issued = loyalty.codes_issue_to_tier(
        tier=tiers["bronze"],
        by=org.manager_a,
        kind=RewardKind.AMOUNT,
        value=Decimal("250"),
        expires_at=timezone.now() + datetime.timedelta(days=10),
        audience=Contact.objects.visible_to(org.manager_a),
    )

    assert issued == 3
    codes = RewardCode.objects.filter(tier=tiers["bronze"])
    assert sorted(codes.values_list("contact_id", flat=True)) == sorted(c.pk for c in holders[:3])
    assert len(set(codes.values_list("code", flat=True))) == 3 and all(CODE_FORMAT.match(c.code) for c in codes)
    assert Activity.objects.filter(kind=ActivityKind.LOYALTY, summary="Reward code issued: ₹250.00 off").count() == 3


def test_a_clashing_code_is_drawn_again(org, tiers, monkeypatch):
    contact = person(org.rep_a1)
    buy(contact, "1000.00")
    loyalty.tiers_recompute()
    taken = issue(person(org.rep_a1, "First")).code
    draws = iter([taken, "ABCD-EFGH-JKLM", taken, "ABCD-EFGH-JKLN"])
    monkeypatch.setattr(loyalty, "code_generate", lambda: next(draws))

    again = issue(person(org.rep_a1, "Second"))
    by_tier = loyalty.codes_issue_to_tier(
        tier=tiers["bronze"],
        by=org.admin,
        kind=RewardKind.PERCENT,
        value=Decimal("5"),
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )

    assert again.code == "ABCD-EFGH-JKLM" and by_tier == 1
    assert RewardCode.objects.get(contact=contact).code == "ABCD-EFGH-JKLN"


def test_a_second_delivery_of_an_issue_job_issues_nothing_twice(org, tiers):
    for n in range(3):
        buy(person(org.rep_a1, f"Holder {n}"), "1000.00")
    loyalty.tiers_recompute()
    job = {
        "tier_id": tiers["bronze"].pk,
        "by_id": org.manager_a.pk,
        "kind": "percent",
        "value": "5",
        "currency": "",
        "expires_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        "reason": "",
        "batch": "3f1c7a4e-0000-4000-8000-000000000001",
    }

    assert loyalty.codes_issue_to_tier_job(**job) == 3
    assert loyalty.codes_issue_to_tier_job(**job) == 0
    assert RewardCode.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_large_tier_gets_its_codes_from_the_worker(client, org, tiers, celery_worker, monkeypatch):
    monkeypatch.setattr(loyalty, "INLINE_ISSUE_LIMIT", 2)
    holders = [person(org.rep_a1, f"Holder {n}") for n in range(3)]
    for contact in holders:
        buy(contact, "1000.00")
    loyalty.tiers_recompute()
    client.force_login(org.manager_a)
    expires = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()

    page = client.post(
        reverse("sales:loyalty_tier_issue"),
        {"tier": tiers["bronze"].pk, "kind": "percent", "value": "5", "expires_on": expires},
        follow=True,
    )

    assert "3 codes are being issued to the holders of Bronze" in page.content.decode()
    deadline = time.monotonic() + 30
    while RewardCode.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(RewardCode.objects.values_list("contact_id", flat=True)) == sorted(c.pk for c in holders)
    assert RewardCode.objects.filter(issued_by=org.manager_a).exclude(batch="").count() == 3


def placed(contact, amount="2000.00", **kwargs):
    return buy(contact, amount, paid=False, **kwargs)


def test_a_code_redeemed_on_its_contacts_order_records_the_discount(org):
    contact = person(org.rep_a1)
    order = placed(contact, "2499.00")
    reward = issue(contact, value="10")

    redeemed = loyalty.code_redeem(code=reward.code.lower(), order=order, by=org.rep_a1)

    reward.refresh_from_db()
    assert redeemed.pk == reward.pk and reward.redeemed_order == order and reward.redeemed_by == org.rep_a1
    assert reward.discount_amount == Decimal("249.90") and reward.redeemed_at is not None
    order.refresh_from_db()
    assert order.discount == Decimal("249.90") and order.total == Decimal("2249.10")
    assert Activity.objects.filter(
        contact=contact, kind=ActivityKind.LOYALTY, summary=f"Reward code redeemed on {order.number}: ₹249.90 off"
    ).exists()


def test_an_amount_off_never_exceeds_the_order_total(org):
    contact = person(org.rep_a1)
    order = placed(contact, "300.00")
    reward = issue(contact, kind=RewardKind.AMOUNT, value="500")

    assert loyalty.code_redeem(code=reward.code, order=order, by=org.rep_a1).discount_amount == Decimal("300.00")
    order.refresh_from_db()
    assert order.total == Decimal("0.00")


def _refusal(code, order, by):
    with pytest.raises(ValidationError) as refused:
        loyalty.code_redeem(code=code, order=order, by=by)
    return refused.value.code, refused.value.messages[0]


def test_codes_are_refused_with_a_reason_the_user_understands(org):
    contact, stranger = person(org.rep_a1), person(org.rep_a1, "Someone else")
    order, other_order = placed(contact), placed(contact)
    used = issue(contact)
    loyalty.code_redeem(code=used.code, order=other_order, by=org.rep_a1)
    expired = issue(contact)
    RewardCode.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    theirs = issue(stranger)
    paid = buy(contact, "1000.00")
    usd = issue(contact, kind=RewardKind.AMOUNT, value="20", currency="USD")

    assert _refusal("NOPE-NOPE-NOPE", order, org.rep_a1)[0] == "unknown"
    assert _refusal("", order, org.rep_a1)[0] == "unknown"
    code, message = _refusal(used.code, order, org.rep_a1)
    assert code == "used" and other_order.number in message
    assert _refusal(expired.code, order, org.rep_a1)[0] == "expired"
    assert _refusal(theirs.code, order, org.rep_a1)[0] == "wrong_contact"
    assert _refusal(issue(contact).code, paid, org.rep_a1)[0] == "order_not_placed"
    assert _refusal(usd.code, order, org.rep_a1)[0] == "currency"
    assert _refusal(issue(contact).code, other_order, org.rep_a1)[0] == "order_has_code"
    assert not RewardCode.objects.filter(redeemed_order=order).exists()


@pytest.mark.django_db(transaction=True)
def test_two_requests_redeeming_one_code_at_once_use_it_once(org):
    contact = person(org.rep_a1)
    for _round in range(5):
        reward = issue(contact)
        orders = [placed(contact), placed(contact)]
        start = threading.Barrier(2)
        outcomes, errors = [], []

        def redeem(order, code=reward.code, start=start, outcomes=outcomes, errors=errors):
            try:
                start.wait()
                loyalty.code_redeem(code=code, order=order, by=org.rep_a1)
                outcomes.append("redeemed")
            except ValidationError as refused:
                outcomes.append(refused.code)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=redeem, args=(order,)) for order in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert sorted(outcomes) == ["redeemed", "used"]
        reward.refresh_from_db()
        assert reward.redeemed_order_id in {order.pk for order in orders}
        assert RewardCode.objects.filter(redeemed_order__in=orders).count() == 1


# Pages ----------------------------------------------------------------------------------


def everyone(org):
    return [org.rep_a1, org.rep_a2, org.manager_a, org.rep_b1, org.manager_b, org.admin]


def test_everyone_sees_the_tiers_counting_only_the_contacts_they_may_see(client, org, tiers):
    for n in range(3):
        buy(person(org.rep_a1, f"A{n}"), "1000.00")
    buy(person(org.rep_b1, "B"), "1000.00")
    loyalty.tiers_recompute()
    url = reverse("sales:loyalty_tiers")
    assert_access(url, allowed=everyone(org))

    counts = {}
    for user in (org.rep_a1, org.rep_a2, org.manager_b, org.admin):
        client.force_login(user)
        rows = {row.tier.name: row.holders for row in client.get(url).context["rows"]}
        counts[user.username] = rows["Bronze"]
    assert counts == {"rep_a1": 3, "rep_a2": 0, "manager_b": 1, "admin_user": 4}


def test_the_tiers_page_reads_a_fixed_number_of_queries_and_escapes_names(client, org, django_assert_max_num_queries):
    LoyaltyTier.objects.create(name="<b>Platinum</b>", rank=5, min_spend=Decimal("1"), min_purchase_count=1)
    for n in range(5):
        LoyaltyTier.objects.create(name=f"Tier {n}", rank=n + 10, min_purchase_count=1)
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("sales:loyalty_tiers"))
    assert "&lt;b&gt;Platinum&lt;/b&gt;" in page.content.decode() and "<b>Platinum" not in page.content.decode()


def test_only_an_admin_recomputes_from_the_tiers_page(client, org, tiers, django_capture_on_commit_callbacks):
    url = reverse("sales:loyalty_recompute")
    assert_access(url, method="post", denied=[org.rep_a1, org.manager_a, org.manager_b])
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url)
    assert response.status_code == 302 and len(callbacks) == 1


def test_managers_and_admins_issue_a_code_to_a_contact_they_may_see(client, org):
    contact = person(org.rep_a1)
    url = reverse("sales:loyalty_code_issue", args=[contact.pk])
    assert_access(url, allowed=[org.manager_a, org.admin], denied=[org.rep_a1, org.rep_a2, org.rep_b1, org.manager_b])
    client.force_login(org.manager_a)
    expires = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()

    response = client.post(url, {"kind": "amount", "value": "500", "currency": "", "expires_on": expires})

    reward = RewardCode.objects.get(contact=contact)
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url() + "#loyalty"
    assert reward.value == Decimal("500.00") and reward.currency == "INR" and reward.issued_by == org.manager_a
    assert timezone.localtime(reward.expires_at, zoneinfo.ZoneInfo("Asia/Kolkata")).date().isoformat() > expires


def test_the_issue_form_says_what_is_wrong_and_issues_nothing(client, org):
    contact = person(org.rep_a1)
    client.force_login(org.manager_a)
    yesterday = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()

    page = client.post(
        reverse("sales:loyalty_code_issue", args=[contact.pk]),
        {"kind": "percent", "value": "150", "expires_on": yesterday, "reason": "<script>x</script>"},
    )

    assert page.status_code == 200 and not RewardCode.objects.exists()
    text = page.content.decode()
    assert "A percentage off is at most 100." in text and "Choose today or a later day." in text
    assert "<script>x</script>" not in text


def test_managers_issue_codes_to_a_tier_for_the_holders_they_may_see(client, org, tiers):
    mine, theirs = person(org.rep_a1), person(org.rep_b1)
    buy(mine, "1000.00")
    buy(theirs, "1000.00")
    loyalty.tiers_recompute()
    url = reverse("sales:loyalty_tier_issue")
    assert_access(url, allowed=[org.manager_a, org.manager_b, org.admin], denied=[org.rep_a1, org.rep_b1])
    client.force_login(org.manager_a)
    expires = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()

    response = client.post(url, {"tier": tiers["bronze"].pk, "kind": "percent", "value": "5", "expires_on": expires})

    assert response.status_code == 302
    assert list(RewardCode.objects.values_list("contact_id", flat=True)) == [mine.pk]


def test_a_code_is_redeemed_from_the_order_page_by_whoever_may_see_the_order(client, org):
    contact = person(org.rep_a1)
    order = placed(contact)
    reward = issue(contact)
    url = reverse("sales:order_code_redeem", args=[order.pk])
    assert_access(url, method="post", data={"code": reward.code}, denied=[org.rep_a2, org.rep_b1, org.manager_b])
    assert RewardCode.objects.get(pk=reward.pk).redeemed_at is None
    client.force_login(org.manager_a)

    page = client.post(url, {"code": reward.code}, follow=True)

    text = page.content.decode()
    assert f"Code {reward.code} redeemed on {order.number}: ₹200.00 off." in text
    assert 'data-testid="reward-code-redeemed"' in text and 'data-testid="reward-code-form"' not in text


@pytest.mark.parametrize("case", ["unknown", "expired", "used", "wrong_contact"])
def test_the_order_page_says_why_a_code_is_refused(client, org, case):
    contact = person(org.rep_a1)
    order = placed(contact)
    if case == "unknown":
        code, expected = "ZZZZ-ZZZZ-ZZZZ", "There is no reward code “ZZZZ-ZZZZ-ZZZZ”"
    elif case == "expired":
        code = issue(contact).code
        RewardCode.objects.filter(code=code).update(expires_at=timezone.now() - datetime.timedelta(days=1))
        expected = f"Code {code} expired on"
    elif case == "used":
        code = issue(contact).code
        first = placed(contact)
        loyalty.code_redeem(code=code, order=first, by=org.rep_a1)
        expected = f"Code {code} was already used on {first.number}"
    else:
        code = issue(person(org.rep_a1, "Other")).code
        expected = f"Code {code} was issued to another customer"
    client.force_login(org.rep_a1)

    page = client.post(reverse("sales:order_code_redeem", args=[order.pk]), {"code": code}, follow=True)

    assert expected in page.content.decode()
    assert not RewardCode.objects.filter(redeemed_order=order).exists()


def _loyal_contact(org, tiers, n):
    contact = person(org.rep_a1, f"Loyal {n}")
    for i in range(n):
        buy(contact, "30000.00", at=timezone.now() - datetime.timedelta(days=40 - i))
        loyalty.tiers_recompute(now=timezone.now() - datetime.timedelta(days=39 - i))
        reward = issue(contact)
        if i % 2:
            loyalty.code_redeem(code=reward.code, order=placed(contact), by=org.rep_a1)
    return contact


def test_the_loyalty_panel_shows_tier_history_and_codes_in_a_fixed_number_of_queries(
    client, org, tiers, django_assert_num_queries
):
    counts = []
    for n in (1, 6):
        contact = _loyal_contact(org, tiers, n)
        client.force_login(org.rep_a1)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(contact.get_absolute_url())
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 25
    text = page.content.decode()
    panel = text[text.index('data-testid="loyalty-panel"') :]
    assert "Gold" in panel and "Silver → Gold" in panel
    assert all(code in panel for code in RewardCode.objects.filter(contact=contact).values_list("code", flat=True))
    assert "Used" in panel and "Valid until" in panel and "Issue a code" not in panel
    with django_assert_num_queries(4):
        loyalty.contact_loyalty(contact=contact)


def test_the_panel_offers_issuing_to_managers_and_escapes_tier_names(client, org):
    LoyaltyTier.objects.create(name="<i>VIP</i>", rank=1, min_purchase_count=1)
    contact = person(org.rep_a1)
    buy(contact, "100.00")
    loyalty.tiers_recompute()
    client.force_login(org.manager_a)

    text = client.get(contact.get_absolute_url()).content.decode()

    assert "&lt;i&gt;VIP&lt;/i&gt;" in text and "<i>VIP</i>" not in text
    assert reverse("sales:loyalty_code_issue", args=[contact.pk]) in text


def test_the_admin_issues_a_code_through_the_service(client, org):
    contact = person(org.rep_a1)
    client.force_login(org.admin)
    expires = timezone.localtime() + datetime.timedelta(days=3)

    response = client.post(
        reverse("admin:sales_rewardcode_add"),
        {
            "contact": contact.pk,
            "kind": "percent",
            "value": "20",
            "currency": "INR",
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": expires.strftime("%H:%M:%S"),
            "reason": "Apology",
        },
    )

    assert response.status_code == 302
    reward = RewardCode.objects.get(contact=contact)
    assert CODE_FORMAT.match(reward.code) and reward.issued_by == org.admin
    assert Activity.objects.filter(contact=contact, kind=ActivityKind.LOYALTY).exists()
    for name in ("loyaltytier", "contacttier", "tierchange", "rewardcode"):
        assert client.get(reverse(f"admin:sales_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:sales_rewardcode_change", args=[reward.pk])).status_code == 200


def test_a_code_is_visible_with_its_contact(org):
    reward = issue(person(org.rep_a1))
    assert RewardCode.objects.visible_to(org.manager_a).filter(pk=reward.pk).exists()
    assert not RewardCode.objects.visible_to(org.rep_b1).filter(pk=reward.pk).exists()
