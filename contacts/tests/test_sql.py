"""contacts.sql.copy_rows and copy_instances: rows written by COPY read back as they were given."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts import sql
from contacts.models import Contact, ContactPhone, FieldChange, ImportJob, ImportRowResult, Phase
from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_copy_rows_keeps_text_that_copy_would_read_as_control_characters(org):
    awkward = ["tab\there", "line\nbreak\r\nand CR", "back\\slash \\N \\t", "राजेश कुमार", "", "'quoted' \"too\""]
    at = timezone.now().replace(microsecond=123456)

    count = sql.copy_rows(
        FieldChange,
        ["record_type", "record_id", "field", "new_value", "changed_by_id", "changed_at"],
        (("contact", n, "note", text, org.rep_a1.pk, at) for n, text in enumerate(awkward)),
    )

    assert count == len(awkward)
    stored = FieldChange.objects.order_by("record_id")
    assert [change.new_value for change in stored] == awkward
    assert {(change.changed_at, change.changed_by_id, change.old_value, change.via) for change in stored} == {
        (at, org.rep_a1.pk, "", "")
    }


def test_copy_rows_gives_other_columns_their_defaults_and_keeps_null_and_json(org):
    contact = ContactFactory(owner=org.rep_a1)
    job = ImportJob.objects.create(owner=org.rep_a1, file_name="x.csv", file_sha256="0" * 64, format="csv")
    sql.copy_rows(ContactPhone, ["contact_id", "number", "is_primary"], [(contact.pk, "+919845012345", True)])
    sql.copy_rows(
        ImportRowResult,
        ["job_id", "line", "action", "contact_id", "message", "previous"],
        [
            (job.pk, 2, "updated", contact.pk, "", {"fields": {"city": ["पुणे", "Pune\tEast"]}}),
            (job.pk, 3, "rejected", None, "bad", None),
        ],
    )

    phone = ContactPhone.objects.get()
    assert (phone.number, phone.kind, phone.is_primary) == ("+919845012345", ContactPhone.Kind.MOBILE, True)
    rows = list(job.rows.order_by("line").values_list("line", "contact_id", "previous"))
    assert rows == [(2, contact.pk, {"fields": {"city": ["पुणे", "Pune\tEast"]}}), (3, None, None)]


def test_copy_rows_of_nothing_writes_nothing():
    assert sql.copy_rows(FieldChange, ["record_type", "record_id", "field"], iter([])) == 0
    assert not FieldChange.objects.exists()


def test_copy_instances_saves_new_contacts_with_keys_from_the_sequence(org):
    at = timezone.now()
    contacts = [
        Contact(
            owner=org.rep_a1,
            display_name=name,
            given_name=name,
            custom={"budget": 1200, "note": "a\tb"},
            is_influencer=n == 1,
            created_at=at,
        )
        for n, name in enumerate(["Asha", "सौरभ"])
    ]

    sql.copy_instances(contacts)
    later = ContactFactory(owner=org.rep_a1)

    assert all(contact.pk and not contact._state.adding for contact in contacts)
    assert later.pk > max(contact.pk for contact in contacts)
    stored = list(Contact.objects.filter(pk__in=[c.pk for c in contacts]).order_by("pk"))
    assert [(c.display_name, c.custom, c.is_influencer, c.phase, c.country, c.created_at) for c in stored] == [
        ("Asha", {"budget": 1200, "note": "a\tb"}, False, Phase.SELECTION, "IN", at),
        ("सौरभ", {"budget": 1200, "note": "a\tb"}, True, Phase.SELECTION, "IN", at),
    ]


def test_copy_rows_raises_djangos_integrity_error_for_a_violated_constraint(org):
    contact = ContactFactory(owner=org.rep_a1)
    with pytest.raises(IntegrityError), transaction.atomic():
        sql.copy_rows(
            ContactPhone,
            ["contact_id", "number", "is_primary"],
            [(contact.pk, "+919845012345", True), (contact.pk, "+919845012345", False)],
        )
    assert not ContactPhone.objects.exists()
