"""Merging contacts: everything is kept, nothing half-applies, every relation to Contact is handled."""

import datetime

import pytest
from django.db import DatabaseError, connection
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from contacts.merge import contact_merge, contact_relations, merge_plan
from contacts.models import (
    Activity,
    ActivityKind,
    Consent,
    ConsentEvent,
    ConsentStatus,
    Contact,
    ContactEmail,
    ContactPhone,
    DuplicateCandidate,
    DuplicateStatus,
    FieldChange,
    ImportJob,
    ImportRowResult,
    MergeRecord,
    Phase,
    PhaseChange,
    Referral,
    SocialAccount,
    Task,
)
from contacts.services import (
    activity_log,
    company_create,
    consent_set,
    contact_create,
    contact_update,
    phase_change,
    referral_add,
    task_create,
)
from contacts.tests.factories import ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _ids(*contacts):
    return [contact.pk for contact in contacts]


def _state() -> dict:
    """Every row a merge may touch, to show that a failed merge changed nothing."""
    tags = Contact.tags.through.objects.values_list("contact_id", "tag_id")
    return {
        "contacts": sorted(Contact.objects.values_list()),
        "emails": sorted(ContactEmail.objects.values_list()),
        "phones": sorted(ContactPhone.objects.values_list()),
        "social": sorted(SocialAccount.objects.values_list()),
        "consents": sorted(Consent.objects.values_list()),
        "consent_events": sorted(ConsentEvent.objects.values_list("id", "contact_id")),
        "activities": sorted(Activity.objects.values_list("id", "contact_id")),
        "tasks": sorted(Task.objects.values_list("id", "contact_id")),
        "phase_changes": sorted(PhaseChange.objects.values_list("id", "contact_id")),
        "referrals": sorted(Referral.objects.values_list()),
        "tags": sorted(tags),
        "import_rows": sorted(ImportRowResult.objects.values_list("id", "contact_id")),
        "field_changes": sorted(FieldChange.objects.values_list("id", "record_id")),
        "candidates": sorted(DuplicateCandidate.objects.values_list("id", "status")),
        "merges": MergeRecord.objects.count(),
    }


@pytest.fixture
def records(org):
    """Two records of one person (keep, other) with something in every relation, and bystanders."""
    user = org.rep_a1
    now = timezone.now()
    company = company_create(by=user, name="Kaveri Traders")
    keep = contact_create(
        by=user,
        owner=user,
        given_name="Priya",
        family_name="Sharma",
        emails=["priya@example.com", "shared@example.com"],
        phones=["9845012345"],
        tags=["vip", "pune"],
        customer_type="b2b",
    )
    other = contact_create(
        by=user,
        owner=user,
        given_name="Priya",
        family_name="S",
        emails=["shared@example.com", "priya.work@example.com"],
        phones=["9845012346", "9845012345"],
        tags=["pune", "newsletter"],
        company=company,
        job_title="Buyer",
        city="Pune",
        postcode="411001",
        custom={"loyalty_id": "L-7"},
    )
    third = contact_create(by=user, owner=user, display_name="Ravi Third", email="ravi@example.com")
    fourth = contact_create(by=user, owner=user, display_name="Kiran Fourth")
    SocialAccount.objects.create(contact=keep, platform="linkedin", handle="priya-sharma")
    SocialAccount.objects.create(contact=other, platform="linkedin", handle="priya-sharma")
    SocialAccount.objects.create(contact=other, platform="instagram", handle="@priya")
    # email: the other's later withdrawal wins; sms: only the other has one; whatsapp: keep's is newer
    consent_set(contact=keep, channel="email", status=ConsentStatus.GRANTED, method="form", by=user, at=now - 10 * DAY)
    consent_set(contact=other, channel="email", status=ConsentStatus.WITHDRAWN, method="call", by=user, at=now - DAY)
    consent_set(contact=other, channel="sms", status=ConsentStatus.GRANTED, method="form", by=user, at=now - 3 * DAY)
    consent_set(contact=keep, channel="whatsapp", status=ConsentStatus.GRANTED, method="form", by=user, at=now - DAY)
    consent_set(
        contact=other, channel="whatsapp", status=ConsentStatus.WITHDRAWN, method="x", by=user, at=now - 5 * DAY
    )
    activity_log(kind=ActivityKind.CALL, by=user, summary="Keep's call", contact=keep)
    activity_log(kind=ActivityKind.NOTE, by=user, summary="Other's note", contact=other)
    phase_change(contact=other, to=Phase.ACQUISITION, by=user)
    task_create(by=user, title="Call Priya back", due_at=now + DAY, contact=other)
    referral_add(referrer=other, by=user, contact=third)  # moves
    referral_add(referrer=third, by=user, contact=other)  # moves (the other direction)
    referral_add(referrer=keep, by=user, contact=other)  # would become a self-referral: dropped
    referral_add(referrer=other, by=user, contact=keep)  # likewise
    referral_add(referrer=keep, by=user, contact=fourth)
    referral_add(referrer=other, by=user, contact=fourth)  # keep already has it: dropped
    referral_add(referrer=other, by=user, company=company)  # moves
    job = ImportJob.objects.create(
        owner=user, file="imports/x.csv", file_name="x.csv", file_sha256="0" * 64, format="csv"
    )
    ImportRowResult.objects.create(job=job, line=2, action="created", contact=other)
    contact_update(contact=other, by=user, display_name="Priya S.")
    DuplicateCandidate.objects.create(first=keep, second=other, reason="email")
    return {"keep": keep, "other": other, "third": third, "fourth": fourth, "company": company, "user": user}


def test_merge_keeps_every_email_and_phone_once(records):
    keep, other = records["keep"], records["other"]
    contact_merge(keep=keep, others=[other], by=records["user"])

    assert sorted(keep.emails.values_list("email", flat=True)) == [
        "priya.work@example.com",
        "priya@example.com",
        "shared@example.com",
    ]
    assert sorted(keep.phones.values_list("number", flat=True)) == ["+919845012345", "+919845012346"]
    assert keep.emails.get(is_primary=True).email == "priya@example.com"
    keep.refresh_from_db()
    assert (keep.email, keep.phone) == ("priya@example.com", "+919845012345")
    assert not Contact.objects.filter(pk=other.pk).exists()


def test_merge_moves_timeline_tasks_phase_history_and_consent_history(records):
    keep, other = records["keep"], records["other"]
    totals = {
        model: model.objects.filter(contact__in=[keep, other]).count()
        for model in (Activity, Task, PhaseChange, ConsentEvent)
    }

    contact_merge(keep=keep, others=[other], by=records["user"])

    for model, total in totals.items():
        assert model.objects.filter(contact=keep).count() == total, model
    assert keep.activities.filter(summary="Other's note").exists()
    assert keep.tasks.get().title == "Call Priya back"
    assert set(keep.phase_changes.values_list("to_phase", flat=True)) == {Phase.SELECTION, Phase.ACQUISITION}


def test_merge_keeps_the_most_recent_consent_per_channel(records):
    keep = records["keep"]
    contact_merge(keep=keep, others=[records["other"]], by=records["user"])

    assert dict(keep.consents.values_list("channel", "status")) == {
        "email": ConsentStatus.WITHDRAWN,
        "sms": ConsentStatus.GRANTED,
        "whatsapp": ConsentStatus.GRANTED,
    }


def test_merge_keeps_social_accounts_tags_and_import_rows(records):
    keep, other = records["keep"], records["other"]
    contact_merge(keep=keep, others=[other], by=records["user"])

    assert sorted(keep.social_accounts.values_list("platform", "handle")) == [
        ("instagram", "@priya"),
        ("linkedin", "priya-sharma"),
    ]
    assert sorted(keep.tags.values_list("name", flat=True)) == ["newsletter", "pune", "vip"]
    assert ImportRowResult.objects.get().contact_id == keep.pk


def test_merge_keeps_referrals_both_ways_without_self_referrals(records):
    keep, third, fourth, company = records["keep"], records["third"], records["fourth"], records["company"]
    contact_merge(keep=keep, others=[records["other"]], by=records["user"])

    assert set(Referral.objects.values_list("referrer_id", "referred_contact_id", "referred_company_id")) == {
        (keep.pk, third.pk, None),
        (third.pk, keep.pk, None),
        (keep.pk, fourth.pk, None),
        (keep.pk, None, company.pk),
    }


def test_merge_fills_blank_fields_and_keeps_the_kept_values(records):
    keep = records["keep"]
    contact_merge(keep=keep, others=[records["other"]], by=records["user"])

    keep.refresh_from_db()
    assert (keep.given_name, keep.family_name, keep.display_name) == ("Priya", "Sharma", "Priya Sharma")
    assert (keep.company, keep.job_title, keep.city, keep.postcode) == (records["company"], "Buyer", "Pune", "411001")
    assert keep.custom == {"loyalty_id": "L-7"}


def test_merge_moves_the_change_history_and_records_the_merge(records):
    keep, other, user = records["keep"], records["other"], records["user"]
    history = FieldChange.objects.filter(record_type="contact", record_id__in=[keep.pk, other.pk]).count()

    contact_merge(keep=keep, others=[other], by=user)

    changes = FieldChange.objects.filter(record_type="contact", record_id=keep.pk)
    assert not FieldChange.objects.filter(record_type="contact", record_id=other.pk).exists()
    assert changes.filter(field="display_name", new_value="Priya S.").exists()  # the other's old history
    merged = changes.get(field="merged")
    assert (merged.changed_by, merged.via) == (user, "merge")
    assert f"#{other.pk}" in merged.old_value
    assert changes.filter(field="city", new_value="Pune", via="merge").exists()
    assert changes.count() > history


def test_merge_writes_an_audit_record_with_a_snapshot(records):
    keep, other, user = records["keep"], records["other"], records["user"]
    record = contact_merge(keep=keep, others=[other], by=user)

    record.refresh_from_db()
    assert (record.kept, record.kept_id_value, record.merged_ids, record.merged_by) == (keep, keep.pk, [other.pk], user)
    assert record.merged_at is not None
    snapshot = record.snapshot[str(other.pk)]
    assert snapshot["display_name"] == "Priya S."
    assert snapshot["city"] == "Pune" and snapshot["owner_id"] == user.pk
    assert {row["email"] for row in snapshot["emails"]} == {"shared@example.com", "priya.work@example.com"}
    assert {row["number"] for row in snapshot["phones"]} == {"+919845012346", "+919845012345"}
    assert sorted(snapshot["tags"]) == ["newsletter", "pune"]


def test_merge_resolves_the_pair_and_finds_new_pairs_of_the_kept_record(records):
    keep, other, third = records["keep"], records["other"], records["third"]
    ContactEmail.objects.create(contact=third, email="priya.work@example.com")  # shared with `other` only
    contact_merge(keep=keep, others=[other], by=records["user"])

    assert list(DuplicateCandidate.objects.values_list("first_id", "second_id", "reason", "status")) == [
        (min(keep.pk, third.pk), max(keep.pk, third.pk), "email", DuplicateStatus.OPEN)
    ]


def test_merge_of_three_records(org):
    user = org.rep_b1
    keep = contact_create(by=user, display_name="Anita Desai", email="anita@example.com")
    two = contact_create(by=user, display_name="Anita D", email="anita.d@example.com", city="Chennai")
    three = contact_create(by=org.rep_b2, owner=org.rep_b2, display_name="A Desai", phone="9845012345", state="TN")
    activity_log(kind=ActivityKind.NOTE, by=user, summary="From two", contact=two)
    activity_log(kind=ActivityKind.NOTE, by=user, summary="From three", contact=three)

    record = contact_merge(keep=keep, others=[two, three], by=user)

    assert list(Contact.objects.values_list("pk", flat=True)) == [keep.pk]
    keep.refresh_from_db()
    assert (keep.city, keep.state, keep.phone) == ("Chennai", "TN", "+919845012345")
    assert set(keep.emails.values_list("email", flat=True)) == {"anita@example.com", "anita.d@example.com"}
    assert set(keep.activities.values_list("summary", flat=True)) == {"From two", "From three"}
    assert sorted(record.merged_ids) == sorted(_ids(two, three))
    assert set(record.snapshot) == {str(two.pk), str(three.pk)}


def test_merge_with_a_record_the_user_may_not_see_changes_nothing(records, org):
    hidden = ContactFactory(owner=org.rep_a2)
    before = _state()

    with pytest.raises(Http404):
        contact_merge(keep=records["keep"], others=[records["other"], hidden], by=records["user"])

    assert _state() == before


def test_merge_failing_at_the_last_step_changes_nothing(records):
    """A real database error at the very end (deleting the merged record) rolls everything back."""
    other = records["other"]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_contact_delete() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused in test'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_contact_delete BEFORE DELETE ON contacts_contact "
            f"FOR EACH ROW WHEN (OLD.id = {int(other.pk)}) EXECUTE FUNCTION refuse_contact_delete()"
        )
    before = _state()

    with pytest.raises(DatabaseError, match="refused in test"):
        contact_merge(keep=records["keep"], others=[other], by=records["user"])

    assert _state() == before


def test_merge_needs_another_record(records):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        contact_merge(keep=records["keep"], others=[records["keep"]], by=records["user"])


# Every relation to Contact is handled ---------------------------------------------------


def test_every_relation_to_contact_has_a_merge_rule():
    """Fails when a model gets a foreign key to Contact under a unique constraint that the merge
    does not know: give it a rule in contacts/merge.py (SPECIAL_RELATIONS) before it loses rows."""
    plan = merge_plan()
    assert plan["unhandled"] == []
    handled = {(model, field) for kind in ("generic", "special", "union") for model, field in plan[kind]}
    assert handled == set(contact_relations())
    generic = {(model._meta.label_lower, field) for model, field in plan["generic"]}
    assert {
        ("contacts.activity", "contact"),
        ("contacts.task", "contact"),
        ("contacts.phasechange", "contact"),
        ("contacts.consentevent", "contact"),
        ("contacts.importrowresult", "contact"),
        ("contacts.mergerecord", "kept"),
    } <= generic
    assert [model for model, _field in plan["union"]] == [Contact.tags.through]


def test_merge_leaves_no_row_of_any_relation_on_the_merged_record(records):
    other = records["other"]
    contact_merge(keep=records["keep"], others=[other], by=records["user"])
    for model, field in contact_relations():
        assert not model._base_manager.filter(**{field: other.pk}).exists(), (model, field)


# Pages ---------------------------------------------------------------------------------


def test_merge_page_follows_the_access_rule(org):
    contact = ContactFactory(owner=org.rep_a1)
    assert_access(
        reverse("contacts:contact_merge", args=[contact.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


def test_merge_page_search_offers_only_visible_records(client, org, django_assert_max_num_queries):
    keep = ContactFactory(owner=org.rep_a1, display_name="Meera Nair")
    ContactFactory(owner=org.rep_a1, display_name="Meera N")
    ContactFactory(owner=org.rep_a2, display_name="Meera Hidden")
    client.force_login(org.rep_a1)

    with django_assert_max_num_queries(8):
        page = client.get(reverse("contacts:contact_merge", args=[keep.pk]), {"q": "Meera"}).content.decode()

    assert "Meera N" in page and "Meera Hidden" not in page
    assert page.count('name="others"') == 1


def test_merge_page_merges_the_ticked_records(client, org):
    keep = ContactFactory(owner=org.rep_a1, display_name="Meera Nair")
    other = ContactFactory(owner=org.rep_a1, display_name="Meera N")
    client.force_login(org.rep_a1)

    response = client.post(reverse("contacts:contact_merge", args=[keep.pk]), {"others": [other.pk]})

    assert response.status_code == 302 and response["Location"] == keep.get_absolute_url()
    assert not Contact.objects.filter(pk=other.pk).exists()
    assert MergeRecord.objects.get().merged_by == org.rep_a1


def test_merge_page_with_a_hidden_or_bad_record_changes_nothing(client, org):
    keep = ContactFactory(owner=org.rep_a1)
    hidden = ContactFactory(owner=org.rep_a2)
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_merge", args=[keep.pk])
    for data in ({"others": [hidden.pk]}, {"others": ["not-a-number"]}, {"others": [keep.pk]}, {}):
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert response.context["form"].errors
    assert Contact.objects.count() == 2 and not MergeRecord.objects.exists()


def test_merge_into_this_one_from_the_compare_page(client, org):
    first = ContactFactory(owner=org.rep_a1, display_name="Meera Nair")
    second = ContactFactory(owner=org.rep_a1, display_name="Meera N", city="Kochi")
    candidate = DuplicateCandidate.objects.create(first=first, second=second, reason="name", score=0.7)
    client.force_login(org.rep_a1)
    url = reverse("contacts:duplicate_merge", args=[candidate.pk])

    assert client.post(url, {"keep": "12345678"}).status_code == 302  # neither of the pair: nothing done
    assert Contact.objects.count() == 2
    response = client.post(url, {"keep": second.pk})

    assert response.status_code == 302 and response["Location"] == second.get_absolute_url()
    assert list(Contact.objects.values_list("pk", flat=True)) == [second.pk]


def test_merge_from_the_compare_page_follows_the_access_rule(client, org):
    first, second = ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1)
    candidate = DuplicateCandidate.objects.create(first=first, second=second, reason="email")
    for user in (org.rep_a2, org.manager_b, org.rep_b1):
        client.force_login(user)
        response = client.post(reverse("contacts:duplicate_merge", args=[candidate.pk]), {"keep": first.pk})
        assert response.status_code == 404
    assert Contact.objects.count() == 2
