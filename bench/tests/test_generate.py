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
