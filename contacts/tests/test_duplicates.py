"""Finding possible duplicates (one SQL statement per rule) and the review queue pages."""

import itertools
import time

import pytest
from django.urls import reverse

from contacts import sql
from contacts.duplicates import duplicate_queue, duplicates_find
from contacts.models import ContactEmail, ContactPhone, DuplicateCandidate, DuplicateStatus
from contacts.services import company_create, contact_create
from contacts.tests.factories import ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db


def _person(owner, name, **fields):
    given, _space, family = name.partition(" ")
    return contact_create(by=owner, owner=owner, given_name=given, family_name=family, **fields)


def _pairs(reason=None):
    rows = DuplicateCandidate.objects.all()
    if reason:
        rows = rows.filter(reason=reason)
    return {(row.first_id, row.second_id) for row in rows}


def _pair(a, b):
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def test_same_email_typed_in_other_case_and_spacing_is_a_pair(org):
    first = _person(org.rep_a1, "Priya Sharma", email="  Priya.Sharma@Example.COM ")
    second = _person(org.rep_a1, "P Sharma", emails=["other@example.com", "priya.sharma@example.com"])
    _person(org.rep_a1, "Someone Else", email="someone@example.com")

    found = duplicates_find()

    assert found["email"] == 1
    [candidate] = DuplicateCandidate.objects.filter(reason="email")
    assert (candidate.first_id, candidate.second_id) == _pair(first, second)
    assert candidate.score == 1.0 and candidate.status == DuplicateStatus.OPEN


def test_phone_typed_in_different_formats_is_a_pair(org):
    one = _person(org.rep_a1, "Arjun Rao", phone="098450 12345")
    two = _person(org.rep_a1, "A Rao", phone="+91 98450-12345")
    three = _person(org.rep_a1, "Arjun R", phones=["(+91) 9845012345"])

    duplicates_find()

    assert {one.phone, two.phone, three.phone} == {"+919845012345"}
    assert _pairs("phone") == {_pair(one, two), _pair(one, three), _pair(two, three)}
    assert set(DuplicateCandidate.objects.values_list("score", flat=True)) == {1.0}


def test_similar_latin_names_in_the_same_company_are_a_pair(org):
    company = company_create(by=org.rep_a1, name="Kaveri Traders")
    first = _person(org.rep_a1, "Rajesh Kumar", company=company)
    second = _person(org.rep_a1, "Rajesh Kumaar", company=company)
    _person(org.rep_a1, "Suresh Kumar", company=company)  # another person

    duplicates_find()

    [candidate] = DuplicateCandidate.objects.filter(reason="name")
    assert (candidate.first_id, candidate.second_id) == _pair(first, second)
    assert 0.6 < candidate.score < 1.0


def test_similar_devanagari_names_in_the_same_city_are_a_pair(org):
    first = _person(org.rep_a1, "राजेश कुमार", city="Pune")
    second = _person(org.rep_a1, "राजेश कुमार शर्मा", city="pune")
    bengali = _person(org.rep_a1, "সৌরভ গাঙ্গুলী", city="Kolkata")
    bengali_too = _person(org.rep_a1, "সৌরভ গাঙ্গুলি", city="Kolkata")

    duplicates_find()

    assert _pairs("name") == {_pair(first, second), _pair(bengali, bengali_too)}


def test_a_misspelt_first_word_in_the_same_city_is_a_pair(org):
    right = _person(org.rep_a1, "Rajesh Kumar", city="Pune")
    misspelt = _person(org.rep_a1, "Rahjesh Kumar", city="pune")
    for name in ("Suresh Kumar", "Rakesh Kumar", "Ramesh Kumar", "Meera Nair", "Rajiv Khanna"):
        _person(org.rep_a1, name, city="Pune")  # other people of the town, some a letter apart
    _person(org.rep_a1, "Rahjesh Kumar", city="Chennai")  # the same spelling elsewhere

    duplicates_find()

    [candidate] = DuplicateCandidate.objects.filter(reason="name")
    assert (candidate.first_id, candidate.second_id) == _pair(right, misspelt)
    assert 0.65 < candidate.score < 0.7
    DuplicateCandidate.objects.all().delete()
    duplicates_find(contact_ids=[misspelt.pk])  # after a create or an import, the same
    assert _pairs("name") == {_pair(right, misspelt)}


def test_a_misspelt_second_word_in_the_same_city_is_still_a_pair(org):
    right = _person(org.rep_a1, "Priya Sharma", city="Mumbai")
    misspelt = _person(org.rep_a1, "Priya Sharmaa", city="Mumbai")
    _person(org.rep_a1, "Prita Sharma", city="Mumbai")  # another woman, a letter apart

    duplicates_find()

    assert _pairs("name") == {_pair(right, misspelt)}


def test_same_name_in_other_cities_and_companies_is_not_a_pair(org):
    _person(org.rep_a1, "Anita Desai", city="Pune")
    _person(org.rep_a1, "Anita Desai", city="Chennai")
    _person(org.rep_a1, "Anita Desai", company=company_create(by=org.rep_a1, name="One"))
    _person(org.rep_a1, "Anita Desai", company=company_create(by=org.rep_a1, name="Two"))
    _person(org.rep_a1, "Anita Desai")  # no city, no company: nothing to compare within

    assert duplicates_find() == {"email": 0, "phone": 0, "name": 0}
    assert not DuplicateCandidate.objects.exists()


def test_scan_of_some_contacts_finds_the_name_pairs_of_the_full_scan(org):
    company = company_create(by=org.rep_a1, name="Kaveri Traders")
    people = [
        _person(org.rep_a1, "Rajesh Kumar", company=company),
        _person(org.rep_a1, "Rajesh Kumaar", company=company, city="Pune"),
        _person(org.rep_a1, "Rajesh Kumar", city="PUNE"),
        _person(org.rep_a1, "राजेश कुमार", city="Pune"),
        _person(org.rep_a1, "राजेश कुमार शर्मा", city="Pune"),
        _person(org.rep_a1, "Meera Nair", city="Pune"),
    ]
    duplicates_find()
    full = _pairs("name")
    DuplicateCandidate.objects.all().delete()

    for person in people:
        duplicates_find(contact_ids=[person.pk])

    assert _pairs("name") == full
    assert len(full) == 3  # Kumar~Kumaar in the company, Kumaar~Kumar in Pune, the Devanagari pair


def test_scan_is_idempotent(org):
    _person(org.rep_a1, "Meera Nair", email="meera@example.com", phone="9845012345", city="Kochi")
    _person(org.rep_a1, "Meera Nair", email="meera@example.com", phone="9845012345", city="Kochi")

    first_run = duplicates_find()
    rows = list(DuplicateCandidate.objects.values_list("first_id", "second_id", "reason"))
    second_run = duplicates_find()

    assert sum(first_run.values()) == 1  # one pair, found by the first rule that met it
    assert second_run == {"email": 0, "phone": 0, "name": 0}
    assert list(DuplicateCandidate.objects.values_list("first_id", "second_id", "reason")) == rows


def test_dismissed_pair_stays_dismissed_after_a_rescan(org):
    _person(org.rep_a1, "Meera Nair", email="meera@example.com")
    _person(org.rep_a1, "Meera N", email="meera@example.com")
    duplicates_find()
    DuplicateCandidate.objects.update(status=DuplicateStatus.DISMISSED)

    duplicates_find()

    assert list(DuplicateCandidate.objects.values_list("status", flat=True)) == [DuplicateStatus.DISMISSED]


def test_scan_of_some_contacts_only_finds_their_pairs(org):
    new = _person(org.rep_a1, "Kiran Shetty", email="kiran@example.com")
    old = _person(org.rep_a1, "Kiran S", email="kiran@example.com")
    _person(org.rep_a1, "Other One", phone="9845012345")
    _person(org.rep_a1, "Other Two", phone="9845012345")

    found = duplicates_find(contact_ids=[new.pk])

    assert found == {"email": 1, "phone": 0, "name": 0}
    assert _pairs() == {_pair(new, old)}
    assert duplicates_find(contact_ids=[]) == {"email": 0, "phone": 0, "name": 0}


def test_an_address_shared_by_very_many_contacts_is_not_evidence(org, monkeypatch):
    monkeypatch.setattr(sql, "MAX_SHARED", 2)
    for n in range(3):
        _person(org.rep_a1, f"Front Desk {n}", email="info@example.com")

    duplicates_find()

    assert not _pairs("email")


def test_equal_value_rules_agree_with_a_plain_recount(org):
    """The SQL rules against the same pairs counted in Python from the stored channels."""
    emails = ["a@example.com", "b@example.com", "c@example.com"]
    phones = ["9845012345", "9845012346"]
    for n in range(12):
        _person(
            org.rep_a1,
            f"Person {n}",
            emails=[emails[n % 3]] if n % 4 else [],
            phones=[phones[n % 2]] if n % 3 else [],
        )

    duplicates_find()

    for model, column, reason in ((ContactEmail, "email", "email"), (ContactPhone, "number", "phone")):
        by_value = {}
        for contact_id, value in model.objects.values_list("contact_id", column):
            by_value.setdefault(value, set()).add(contact_id)
        expected = {pair for ids in by_value.values() for pair in itertools.combinations(sorted(ids), 2)}
        found = _pairs(reason) | (_pairs("email") if reason == "phone" else set())
        assert expected <= found
        assert _pairs(reason) <= expected


# The review queue ---------------------------------------------------------------------


def _candidate(first, second, reason="email", score=1.0):
    a, b = sorted([first, second], key=lambda contact: contact.pk)
    return DuplicateCandidate.objects.create(first=a, second=b, reason=reason, score=score)


def test_queue_shows_only_pairs_the_user_may_see_both_of(client, org):
    mine = _candidate(ContactFactory(owner=org.rep_a1, display_name="Mine One"), ContactFactory(owner=org.rep_a1))
    _candidate(ContactFactory(owner=org.rep_a1, display_name="Half Mine"), ContactFactory(owner=org.rep_a2))
    _candidate(ContactFactory(owner=org.rep_a2, display_name="Not Mine"), ContactFactory(owner=org.rep_a2))
    dismissed = _candidate(ContactFactory(owner=org.rep_a1, display_name="Done Pair"), ContactFactory(owner=org.rep_a1))
    dismissed.status = DuplicateStatus.DISMISSED
    dismissed.save()

    assert list(duplicate_queue(user=org.rep_a1)) == [mine]
    assert duplicate_queue(user=org.manager_a).count() == 3
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:duplicate_list")).content.decode()
    assert "Mine One" in page
    assert "Half Mine" not in page and "Not Mine" not in page and "Done Pair" not in page


def test_queue_lists_highest_score_first(org):
    low = _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1), "name", 0.65)
    high = _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1), "email", 1.0)
    assert list(duplicate_queue(user=org.rep_a1)) == [high, low]


def test_queue_page_follows_the_access_rule(org):
    assert_access(
        reverse("contacts:duplicate_list"),
        allowed=[org.rep_a1, org.manager_a, org.rep_b1, org.admin],
    )


def test_compare_page_follows_the_access_rule(org):
    candidate = _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1))
    half_hidden = _candidate(ContactFactory(owner=org.rep_b1), ContactFactory(owner=org.rep_b2))
    assert_access(
        reverse("contacts:duplicate_detail", args=[candidate.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )
    assert_access(
        reverse("contacts:duplicate_detail", args=[half_hidden.pk]),
        allowed=[org.rep_b1, org.rep_b2, org.manager_b],
        denied=[org.rep_a1, org.manager_a],
    )


def test_compare_page_shows_both_records_side_by_side(client, org):
    company = company_create(by=org.rep_a1, name="Kaveri Traders")
    first = _person(org.rep_a1, "Rajesh Kumar", email="rk@example.com", phone="9845012345", company=company)
    second = _person(org.rep_a1, "Rajesh Kumaar", email="rajesh@example.com", city="Mysuru")
    candidate = _candidate(first, second, "name", 0.8)
    client.force_login(org.rep_a1)

    page = client.get(reverse("contacts:duplicate_detail", args=[candidate.pk])).content.decode()

    for text in ("Rajesh Kumar", "Rajesh Kumaar", "rk@example.com", "rajesh@example.com", "+919845012345"):
        assert text in page
    assert "Kaveri Traders" in page and "Mysuru" in page
    assert f'data-testid="merge-into-{first.pk}"' in page and f'data-testid="merge-into-{second.pk}"' in page


def test_queue_and_compare_page_query_counts_do_not_grow_with_rows(client, org, django_assert_max_num_queries):
    for _n in range(30):
        _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1))
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("contacts:duplicate_list"))
    assert response.status_code == 200 and len(response.context["candidates"]) == 25
    candidate = DuplicateCandidate.objects.first()
    with django_assert_max_num_queries(8):
        assert client.get(reverse("contacts:duplicate_detail", args=[candidate.pk])).status_code == 200


def test_not_a_duplicate_dismisses_the_pair(client, org):
    candidate = _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)

    response = client.post(reverse("contacts:duplicate_dismiss", args=[candidate.pk]))

    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.DISMISSED
    assert candidate.resolved_by == org.rep_a1 and candidate.resolved_at is not None


def test_dismiss_follows_the_access_rule(client, org):
    candidate = _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1))
    for user in (org.rep_a2, org.manager_b, org.rep_b1):
        client.force_login(user)
        assert client.post(reverse("contacts:duplicate_dismiss", args=[candidate.pk])).status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.OPEN


def test_only_admins_and_managers_get_the_scan_button(client, org):
    for user, shown in ((org.rep_a1, False), (org.manager_a, True), (org.admin, True)):
        client.force_login(user)
        page = client.get(reverse("contacts:duplicate_list")).content.decode()
        assert ('data-testid="scan-now"' in page) is shown
    client.force_login(org.rep_a1)
    assert client.post(reverse("contacts:duplicate_scan")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_scan_now_runs_the_scan_in_the_worker(client, org, celery_worker):
    first = _person(org.rep_a1, "Meera Nair", email="meera@example.com")
    second = _person(org.rep_a1, "Meera N", email="meera@example.com")
    client.force_login(org.manager_a)

    response = client.post(reverse("contacts:duplicate_scan"))

    assert response.status_code == 302
    deadline = time.monotonic() + 20
    while not DuplicateCandidate.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _pairs() == {_pair(first, second)}


def test_the_queue_and_needs_attention_share_one_table_and_pager(client, org):
    for _n in range(30):
        _candidate(ContactFactory(owner=org.rep_a1), ContactFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)

    for url, rows in ((reverse("contacts:duplicate_list"), 5), (reverse("contacts:needs_attention"), 10)):
        response = client.get(url, {"page": 2})
        used = [template.name for template in response.templates]
        assert "contacts/partials/review_table.html" in used and "partials/pagination.html" in used
        page = response.content.decode()
        assert "Page 2 of 2" in page
        assert page.count("<tr>") == rows + 1  # the rows of page 2 and the head
