"""The generator at a tiny size: consistent data (phases, emails, phones, timeline), the same for a seed."""

import datetime

import pytest
from django.db import connection

from bench import generator, phones
from bench.copyload import stamp_read
from contacts.models import Company, Contact, ContactEmail, ContactPhone
from contacts.normalise import gstin_is_valid

AS_OF = datetime.date(2026, 11, 30)


def make(contacts: int = 300, seed: int = 7, workers: int = 0, **ratios):
    plan = generator.Plan.make(contacts=contacts, seed=seed, as_of=AS_OF, ratios=ratios)
    return generator.generate(plan=plan, workers=workers, log=lambda message: None)


def rows(sql: str, params=None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def digest() -> dict[str, str]:
    """Every generated table's content, ids included, as one hash per table."""
    return {
        table: rows(f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) FROM {table} t")[0][0]  # noqa: S608
        for table in generator.table_order()
    }


@pytest.fixture
def tiny(db):
    return make(near_duplicates=0.05)


def test_phase_of_each_contact_is_where_its_history_ends(tiny):
    wrong = rows(
        """
        SELECT c.id FROM contacts_contact c
        JOIN LATERAL (SELECT to_phase, at FROM contacts_phasechange p WHERE p.contact_id = c.id
                      ORDER BY p.at DESC, p.id DESC LIMIT 1) last ON true
        WHERE last.to_phase <> c.phase OR last.at <> c.phase_changed_at
        """
    )
    assert wrong == []
    broken_chain = rows(
        """
        SELECT contact_id FROM (
            SELECT contact_id, from_phase, lag(to_phase) OVER (PARTITION BY contact_id ORDER BY at, id) AS before
            FROM contacts_phasechange) moves
        WHERE from_phase IS DISTINCT FROM coalesce(before, '')
        """
    )
    assert broken_chain == []
    assert rows("SELECT count(DISTINCT contact_id) FROM contacts_phasechange")[0][0] == Contact.objects.count()


def test_churn_comes_a_full_window_after_the_last_purchase(tiny):
    early = rows(
        """
        SELECT p.contact_id FROM contacts_phasechange p
        JOIN contacts_phasechange before ON before.contact_id = p.contact_id AND before.at < p.at
             AND before.to_phase IN ('retention', 'extension')
        WHERE p.to_phase = 'churned' AND p.at < before.at + interval '365 days'
        """
    )
    assert early == []
    assert Contact.objects.filter(phase="churned").exists()


def test_emails_are_unique_and_the_primary_one_is_on_the_contact(tiny):
    assert rows("SELECT email FROM contacts_contactemail GROUP BY email HAVING count(*) > 1") == []
    mismatched = rows(
        """
        SELECT c.id FROM contacts_contact c
        LEFT JOIN contacts_contactemail e ON e.contact_id = c.id AND e.is_primary
        WHERE coalesce(e.email, '') <> c.email
        """
    )
    assert mismatched == []
    near = ContactEmail.objects.filter(email__regex=r"\+|@(gmial|yaho|yahooo|outlok|hotmal|rediffmial)\.")
    assert near.exists()


def test_every_phone_is_a_valid_e164_number(tiny):
    numbers = [*ContactPhone.objects.values_list("number", flat=True), *Company.objects.values_list("phone", flat=True)]
    assert len(numbers) > 250
    assert [n for n in numbers if not phones.is_valid_e164(n)] == []
    assert any(n.startswith("+91") for n in numbers)
    assert any(not n.startswith("+91") for n in numbers)
    assert not Contact.objects.exclude(phone="").exclude(phone__in=ContactPhone.objects.values("number")).exists()


def test_names_come_in_several_scripts_and_gstins_check_out(tiny):
    names = list(Contact.objects.values_list("display_name", flat=True))
    scripts = {
        "devanagari": any("\u0900" <= ch <= "\u097f" for name in names for ch in name),
        "bengali": any("\u0980" <= ch <= "\u09ff" for name in names for ch in name),
        "kannada": any("\u0c80" <= ch <= "\u0cff" for name in names for ch in name),
    }
    assert scripts == {"devanagari": True, "bengali": True, "kannada": True}
    gstins = list(Company.objects.exclude(gstin="").values_list("gstin", flat=True))
    assert gstins and all(gstin_is_valid(g) for g in gstins)


def test_timeline_is_skewed_and_one_contact_has_exactly_a_thousand_items(tiny):
    stamp = stamp_read("default")
    special = stamp["markers"]["timeline_contact_id"]
    assert rows("SELECT count(*) FROM contacts_activity WHERE contact_id = %s", [special])[0][0] == 1000
    counts = sorted(
        n
        for (n,) in rows("SELECT count(*) FROM contacts_activity WHERE contact_id <> %s GROUP BY contact_id", [special])
    )
    assert counts[len(counts) // 2] <= 8 < counts[-1]
    stale = rows(
        """
        SELECT c.id FROM contacts_contact c
        JOIN (SELECT contact_id, max(at) AS at FROM contacts_activity WHERE kind <> 'phase' GROUP BY contact_id) a
             ON a.contact_id = c.id
        WHERE c.last_activity_at <> greatest(a.at, c.created_at)
        """
    )
    assert stale == []


def test_sequences_continue_after_the_generated_ids(tiny):
    from contacts.services import contact_create
    from crm.models import User

    admin = User.objects.get(username="admin")
    contact = contact_create(by=admin, given_name="Asha", family_name="Nair", email="asha.nair@example.com")
    assert contact.pk == Contact.objects.count()
    assert stamp_read("default")["rows"]["contacts_contact"] == 300


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(db):
    make(contacts=250, seed=3)
    first = digest()
    make(contacts=250, seed=3, workers=2)
    assert digest() == first
    make(contacts=250, seed=4)
    assert digest()["contacts_contact"] != first["contacts_contact"]


def test_every_required_column_is_generated():
    generator.check_tables()


def test_generated_records_pass_the_models_own_validation(tiny):
    from contacts.models import Activity, Consent, PhaseChange, SocialAccount, Task

    for model in (Contact, Company, ContactEmail, ContactPhone, Consent, PhaseChange, SocialAccount, Task, Activity):
        for record in model.objects.order_by("id")[:150]:
            record.full_clean()


# Sales and support ---------------------------------------------------------------------------------


def test_no_churned_contact_has_a_paid_order_within_the_churn_window(tiny):
    from django.conf import settings

    recent = rows(
        """
        SELECT c.id FROM contacts_contact c JOIN sales_order o ON o.contact_id = c.id AND o.status = 'paid'
        WHERE c.phase = 'churned' AND o.placed_at > %s::timestamptz - make_interval(days => %s)
        """,
        [AS_OF.isoformat(), settings.CHURN_WINDOW_DAYS],
    )
    assert recent == []
    assert Contact.objects.filter(phase="churned").count() > 10


def test_customers_have_paid_orders_and_prospects_none(tiny):
    without = rows(
        """
        SELECT c.id FROM contacts_contact c
        WHERE c.phase IN ('retention', 'extension', 'churned')
          AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.contact_id = c.id AND o.status = 'paid')
        """
    )
    assert without == []
    prospects_buying = rows(
        """
        SELECT c.id FROM contacts_contact c JOIN sales_order o ON o.contact_id = c.id AND o.status = 'paid'
        WHERE c.phase IN ('selection', 'acquisition')
        """
    )
    assert prospects_buying == []


def test_the_nightly_churn_job_finds_nobody_to_move_on_the_data_sets_day(tiny):
    from sales.lifecycle import lifecycle_churn

    now = datetime.datetime.combine(AS_OF, datetime.time(), datetime.UTC)
    assert lifecycle_churn(now=now) == 0


def test_each_move_into_retention_or_extension_is_a_paid_order_of_that_moment(tiny):
    unexplained = rows(
        """
        SELECT p.contact_id, p.rule FROM contacts_phasechange p
        WHERE p.to_phase IN ('retention', 'extension') AND NOT EXISTS (
            SELECT 1 FROM sales_order o
            WHERE o.contact_id = p.contact_id AND o.status = 'paid' AND o.paid_at = p.at)
        """
    )
    assert unexplained == []
    rules = {rule for (rule,) in rows("SELECT DISTINCT rule FROM contacts_phasechange WHERE rule <> ''")}
    assert {"first-purchase", "repeat-purchase", "churn"} <= rules


def test_the_lifecycle_rules_replayed_on_the_orders_give_each_contacts_phase(tiny):
    """Replays sales.lifecycle's rules (first purchase, a purchase in another month, the churn
    window, win-back) over every contact's paid orders and compares with the stored phase."""
    import zoneinfo

    from django.conf import settings

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    window = datetime.timedelta(days=settings.CHURN_WINDOW_DAYS)
    now = datetime.datetime.combine(AS_OF, datetime.time(), datetime.UTC)
    paid = {}
    for contact_id, placed in rows("SELECT contact_id, placed_at FROM sales_order WHERE status = 'paid' ORDER BY 2"):
        paid.setdefault(contact_id, []).append(placed)

    def lapse(last):
        day = last.astimezone(zone).date() + window + datetime.timedelta(days=1)
        return datetime.datetime.combine(day, datetime.time(), zone)

    wrong = []
    for contact in Contact.objects.only("id", "phase"):
        state, months, last = "prospect", set(), None
        for placed in paid.get(contact.pk, []):
            if state in ("retention", "extension") and lapse(last) <= placed:
                state = "churned"
            month = placed.astimezone(zone).strftime("%Y-%m")
            if state in ("prospect", "churned"):
                state = "retention"
            elif state == "retention" and months - {month}:
                state = "extension"
            months.add(month)
            last = placed
        if state in ("retention", "extension") and lapse(last) <= now:
            state = "churned"
        expected = contact.phase if state == "prospect" and contact.phase in ("selection", "acquisition") else state
        if expected != contact.phase:
            wrong.append((contact.pk, contact.phase, state))
    assert wrong == []


def test_order_totals_are_the_sum_of_their_lines_and_statuses_have_their_times(tiny):
    mismatched = rows(
        """
        SELECT o.id FROM sales_order o
        LEFT JOIN (SELECT order_id, sum(quantity * unit_price - discount) AS amount, count(*) AS n
                   FROM sales_orderline GROUP BY order_id) l ON l.order_id = o.id
        WHERE coalesce(l.amount, -1) <> o.total - o.discount OR l.n NOT BETWEEN 1 AND 4
        """
    )
    assert mismatched == []
    statuses = dict(rows("SELECT status, count(*) FROM sales_order GROUP BY status"))
    assert {"paid", "refunded", "cancelled"} <= set(statuses)
    assert statuses["paid"] > 0.85 * sum(statuses.values())
    bad_times = rows(
        """
        SELECT id FROM sales_order
        WHERE (status IN ('paid', 'refunded') AND (paid_at IS NULL OR paid_at < placed_at))
           OR (status = 'refunded' AND refunded_at <= paid_at)
           OR (status = 'cancelled' AND (cancelled_at IS NULL OR paid_at IS NOT NULL))
           OR placed_at > %s::timestamptz
        """,
        [AS_OF.isoformat()],
    )
    assert bad_times == []


def test_orders_average_the_ratio_and_most_customers_buy_once(tiny):
    from sales.models import Order

    assert 8 * 300 <= Order.objects.count() <= 12 * 300
    per_customer = sorted(
        n for (n,) in rows("SELECT count(*) FROM sales_order WHERE status = 'paid' GROUP BY contact_id")
    )
    once = sum(1 for n in per_customer if n == 1) / len(per_customer)
    assert once > 0.4, per_customer
    assert per_customer[-1] >= 100
    stamp = stamp_read("default")
    orders_contact = stamp["markers"]["orders_contact_id"]
    assert Order.objects.filter(contact_id=orders_contact).count() == 1000


def test_diwali_fortnights_sell_more_than_other_months(tiny):
    by_month = dict(
        rows(
            "SELECT extract(month FROM placed_at AT TIME ZONE 'Asia/Kolkata')::int, count(*) FROM sales_order "
            "GROUP BY 1"
        )
    )
    festive = (by_month.get(10, 0) + by_month.get(11, 0)) / 2
    others = sum(n for month, n in by_month.items() if month not in (10, 11)) / 10
    assert festive > 1.3 * others


def test_deals_are_consistent_with_their_stages_and_orders(tiny):
    from sales.models import Deal, DealStageChange

    assert Deal.objects.filter(status="open").exists()
    assert Deal.objects.filter(status="won", order__isnull=False).exists()
    wrong_stage = rows(
        """
        SELECT d.id FROM sales_deal d JOIN sales_stage s ON s.id = d.stage_id
        WHERE s.kind <> d.status OR s.pipeline_id <> d.pipeline_id
        """
    )
    assert wrong_stage == []
    history_end = rows(
        """
        SELECT d.id FROM sales_deal d
        JOIN LATERAL (SELECT to_stage_id, at FROM sales_dealstagechange c WHERE c.deal_id = d.id
                      ORDER BY at DESC, id DESC LIMIT 1) last ON true
        WHERE last.to_stage_id <> d.stage_id OR last.at <> d.stage_entered_at
        """
    )
    assert history_end == []
    won_after_purchase = rows(
        """
        SELECT d.id FROM sales_deal d JOIN sales_order o ON o.id = d.order_id
        WHERE d.contact_id <> o.contact_id OR d.won_at > o.placed_at OR o.status <> 'paid'
        """
    )
    assert won_after_purchase == []
    assert DealStageChange.objects.filter(from_stage__isnull=True).count() == Deal.objects.count()


def test_tickets_have_their_due_times_and_breaches(tiny):
    from support.models import Ticket

    assert Ticket.objects.exists()
    wrong = rows(
        """
        SELECT t.id FROM support_ticket t JOIN support_slapolicy s ON s.priority = t.priority
        WHERE t.first_response_due_at <> t.created_at + make_interval(mins => s.first_response_minutes)
           OR t.resolution_due_at <> t.created_at + make_interval(mins => s.resolution_minutes)
           OR (t.first_response_at IS NOT NULL
               AND (t.first_response_at > t.first_response_due_at) <> (t.first_response_breached_at IS NOT NULL))
           OR (t.resolved_at IS NOT NULL
               AND (t.resolved_at > t.resolution_due_at) <> (t.resolution_breached_at IS NOT NULL))
           OR (t.resolved_at IS NOT NULL AND t.resolved_at < t.first_response_at)
        """
    )
    assert wrong == []
    assert Ticket.objects.filter(status__in=["resolved", "closed"], time_entries__isnull=False).exists()
    assert Ticket.objects.filter(first_response_breached_at__isnull=False).exists()
    churned_late = rows(
        """
        SELECT t.id FROM support_ticket t JOIN contacts_contact c ON c.id = t.contact_id
        WHERE c.phase = 'churned' AND t.created_at > c.phase_changed_at
        """
    )
    assert churned_late == []


def test_loyalty_tiers_are_what_the_nightly_recompute_gives(tiny):
    from sales.loyalty import tiers_recompute
    from sales.models import ContactTier

    assert ContactTier.objects.exists()
    now = datetime.datetime.combine(AS_OF, datetime.time(), datetime.UTC)
    assert tiers_recompute(now=now) == 0


def test_generated_sales_and_support_records_pass_the_models_own_validation(tiny):
    from sales.models import Deal, DealStageChange, Order, OrderLine, Product
    from support.models import Ticket, TicketEvent, TimeEntry

    for model in (Product, Order, OrderLine, Deal, DealStageChange, Ticket, TicketEvent, TimeEntry):
        for record in model.objects.order_by("id")[:150]:
            record.full_clean()
