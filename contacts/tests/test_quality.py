"""Data quality: the completeness score (Python and SQL agree), staleness, "needs attention"."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, FieldChange
from contacts.quality import (
    TOTAL_B2B,
    TOTAL_B2C,
    contact_is_stale,
    contact_quality,
    needs_attention,
    stale_condition,
    with_completeness,
)
from contacts.services import company_create, consent_set, contact_create
from contacts.tests.factories import ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db

COMPLETE = {
    "given_name": "Priya",
    "family_name": "Sharma",
    "email": "priya@example.com",
    "phone": "9845012345",
    "city": "Pune",
    "state": "Maharashtra",
    "postcode": "411001",
    "source": "referral",
    "preferred_channel": "email",
}


def _complete_b2b(user):
    company = company_create(by=user, name="Kaveri Traders")
    contact = contact_create(by=user, customer_type="b2b", company=company, job_title="Buyer", **COMPLETE)
    consent_set(contact=contact, channel="email", status="granted", method="web form", by=user)
    return contact


def test_weights_add_up_to_one_hundred_for_business_contacts():
    assert TOTAL_B2B == 100 and TOTAL_B2C == 85


def test_a_complete_business_contact_scores_one_hundred(org):
    assert contact_quality(_complete_b2b(org.rep_a1)) == (100, [])


def test_company_and_job_title_count_only_for_business_contacts(org):
    consumer = contact_create(by=org.rep_a1, **COMPLETE)
    consent_set(contact=consumer, channel="sms", status="withdrawn", method="call", by=org.rep_a1)
    assert contact_quality(consumer) == (100, [])

    business = contact_create(by=org.rep_a1, customer_type="b2b", **COMPLETE)
    score, missing = contact_quality(business)
    assert missing == ["Company", "Job title", "Consent recorded"]
    assert score == 75


def test_missing_items_are_listed(org):
    contact = contact_create(by=org.rep_a1, display_name="Walk-in customer", email="walkin@example.com")
    score, missing = contact_quality(contact)
    assert score == 20 * 100 // 85
    assert missing == [
        "Name",
        "Phone",
        "City",
        "State",
        "PIN / postcode",
        "Source",
        "Preferred channel",
        "Consent recorded",
    ]


def test_sql_annotation_agrees_with_the_python_score(org):
    user = org.rep_a1
    company = company_create(by=user, name="Acme")
    contacts = [
        _complete_b2b(user),
        contact_create(by=user, **COMPLETE),
        contact_create(by=user, customer_type="b2b", **COMPLETE),
        contact_create(by=user, customer_type="b2b", company=company, display_name="Only Company"),
        contact_create(by=user, display_name="Nobody"),
        contact_create(by=user, family_name="Iyer", phone="9845012346", city="Chennai", source="event"),
        contact_create(by=user, given_name="Ravi", customer_type="b2b", job_title="CEO", preferred_channel="sms"),
    ]
    consent_set(contact=contacts[4], channel="whatsapp", status="granted", method="form", by=user)

    annotated = dict(with_completeness(Contact.objects.all()).values_list("pk", "completeness"))

    expected = {contact.pk: contact_quality(contact)[0] for contact in contacts}
    assert annotated == expected
    assert len(set(expected.values())) >= 5  # the cases really differ


def test_stale_around_the_boundary(org, settings):
    settings.CONTACT_STALE_DAYS = 180
    now = timezone.now()
    minute = datetime.timedelta(minutes=1)
    limit = datetime.timedelta(days=180)
    just_stale = ContactFactory(owner=org.rep_a1, updated_at=now - limit - minute)
    just_fresh = ContactFactory(owner=org.rep_a1, updated_at=now - limit + minute)
    verified = ContactFactory(owner=org.rep_a1, updated_at=now - 2 * limit, verified_at=now - limit + minute)
    verified_long_ago = ContactFactory(owner=org.rep_a1, updated_at=now - 2 * limit, verified_at=now - limit - minute)

    expected = {just_stale.pk: True, just_fresh.pk: False, verified.pk: False, verified_long_ago.pk: True}
    assert {pk: contact_is_stale(Contact.objects.get(pk=pk), now=now) for pk in expected} == expected
    stale_in_sql = set(Contact.objects.filter(stale_condition(now)).values_list("pk", flat=True))
    assert stale_in_sql == {pk for pk, stale in expected.items() if stale}


def test_stale_days_come_from_the_settings(org, settings):
    contact = ContactFactory(owner=org.rep_a1, updated_at=timezone.now() - datetime.timedelta(days=40))
    settings.CONTACT_STALE_DAYS = 30
    assert contact_is_stale(contact)
    settings.CONTACT_STALE_DAYS = 60
    assert not contact_is_stale(contact)


# The partial and its template tag -------------------------------------------------------


def test_quality_partial_works_with_only_the_contact(org, rf):
    contact = ContactFactory(
        owner=org.rep_a1, given_name="", family_name="", updated_at=timezone.now() - datetime.timedelta(days=400)
    )
    request = rf.get("/")
    request.user = org.rep_a1

    html = render_to_string("contacts/partials/quality.html", {"contact": contact}, request=request)

    score = contact_quality(contact)[0]
    assert f'aria-valuenow="{score}"' in html and f"q-{score // 10 * 10}" in html
    assert "Phone" in html and 'data-testid="stale-badge"' in html
    assert "crm/quality.css" in html
    assert "style=" not in html and "<script" not in html


def test_quality_partial_of_a_fresh_complete_record_has_no_stale_badge(org):
    html = render_to_string("contacts/partials/quality.html", {"contact": _complete_b2b(org.rep_a1)})
    assert "q-100" in html and "stale-badge" not in html and "Missing" not in html


# Needs attention -----------------------------------------------------------------------


def test_needs_attention_lists_stale_and_incomplete_records_worst_first(org):
    user = org.rep_a1
    old = timezone.now() - datetime.timedelta(days=365)
    fine = _complete_b2b(user)
    stale_but_complete = _complete_b2b(user)
    Contact.objects.filter(pk=stale_but_complete.pk).update(updated_at=old)
    empty = contact_create(by=user, display_name="Nobody")
    empty_and_old = contact_create(by=user, display_name="Old Nobody")
    Contact.objects.filter(pk=empty_and_old.pk).update(updated_at=old)
    half = contact_create(by=user, given_name="Ravi", email="ravi@example.com", phone="9845012346")

    listed = list(needs_attention(user=user))

    assert fine not in listed
    assert listed == [empty_and_old, empty, half, stale_but_complete]
    assert [contact.completeness for contact in listed] == [0, 0, 58, 100]


def test_needs_attention_page_follows_the_access_rule(client, org):
    ContactFactory(owner=org.rep_a1, display_name="Mine Incomplete")
    ContactFactory(owner=org.rep_a2, display_name="Theirs Incomplete")
    assert_access(reverse("contacts:needs_attention"), allowed=[org.rep_a1, org.manager_a, org.rep_b1, org.admin])
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:needs_attention")).content.decode()
    assert "Mine Incomplete" in page and "Theirs Incomplete" not in page


def test_manager_filters_needs_attention_by_owner(client, org):
    ContactFactory(owner=org.rep_a1, display_name="Of Rep One")
    ContactFactory(owner=org.rep_a2, display_name="Of Rep Two")
    ContactFactory(owner=org.rep_b1, display_name="Of Other Team")
    client.force_login(org.manager_a)
    url = reverse("contacts:needs_attention")

    everything = client.get(url).content.decode()
    one_rep = client.get(url, {"owner": org.rep_a2.pk}).content.decode()
    not_my_team = client.get(url, {"owner": org.rep_b1.pk}).content.decode()

    assert "Of Rep One" in everything and "Of Rep Two" in everything and "Of Other Team" not in everything
    assert "Of Rep Two" in one_rep and "Of Rep One" not in one_rep
    assert "Of Other Team" not in not_my_team  # an owner outside the team is not a valid choice


def test_needs_attention_page_shows_score_and_missing_items(client, org):
    contact = contact_create(by=org.rep_a1, display_name="Walk-in customer", email="walkin@example.com")
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:needs_attention")).content.decode()
    assert contact.get_absolute_url() in page
    assert f"{contact_quality(contact)[0]}%" in page and "Preferred channel" in page
    assert reverse("contacts:contact_verify", args=[contact.pk]) in page


def test_needs_attention_query_count_does_not_grow_with_rows(client, org, django_assert_max_num_queries):
    ContactFactory.create_batch(60, owner=org.rep_a1)
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("contacts:needs_attention"))
    assert response.status_code == 200 and len(response.context["contacts"]) == 50


def test_mark_verified_clears_stale(client, org):
    contact = ContactFactory(owner=org.rep_a1, updated_at=timezone.now() - datetime.timedelta(days=400))
    assert contact_is_stale(contact)
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("contacts:contact_verify", args=[contact.pk]), {"next": reverse("contacts:needs_attention")}
    )

    assert response.status_code == 302 and response["Location"] == reverse("contacts:needs_attention")
    contact.refresh_from_db()
    assert not contact_is_stale(contact)
    assert FieldChange.objects.filter(record_id=contact.pk, field="verified", changed_by=org.rep_a1).exists()


def test_mark_verified_follows_the_access_rule(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    for user in (org.rep_a2, org.manager_b, org.rep_b1):
        client.force_login(user)
        assert client.post(reverse("contacts:contact_verify", args=[contact.pk])).status_code == 404
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_verify", args=[contact.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("contacts:needs_attention")
    contact.refresh_from_db()
    assert contact.verified_at is not None
