"""The contact and company pages: access rule, search, query counts, escaping."""

import pytest
from django.urls import reverse

from contacts.models import Phase
from contacts.services import contact_create
from contacts.tests.factories import CompanyFactory, ContactFactory
from contacts.tests.test_record_forms import COMPANY_PAGE_QUERIES
from crm.testing import assert_access

pytestmark = pytest.mark.django_db


def test_contact_page_follows_the_access_rule(org):
    contact = ContactFactory(owner=org.rep_a1)
    assert_access(
        contact.get_absolute_url(),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


def test_shared_team_record_is_visible_to_teammates(org):
    contact = ContactFactory(owner=org.rep_b1)
    assert_access(contact.get_absolute_url(), allowed=[org.rep_b2, org.manager_b], denied=[org.rep_a1])


def test_company_page_follows_the_access_rule(org):
    company = CompanyFactory(owner=org.rep_a2)
    assert_access(
        company.get_absolute_url(), allowed=[org.rep_a2, org.manager_a, org.admin], denied=[org.rep_a1, org.rep_b1]
    )


def test_company_page_lists_only_the_people_the_user_may_see(client, org):
    company = CompanyFactory(owner=org.rep_b1)
    ContactFactory(owner=org.rep_b1, company=company, display_name="Visible Person")
    ContactFactory(owner=org.rep_a1, company=company, display_name="Hidden Person")
    client.force_login(org.rep_b2)
    page = client.get(company.get_absolute_url()).content.decode()
    assert "Visible Person" in page and "Hidden Person" not in page


@pytest.mark.parametrize("url_name", ["contacts:contact_list", "contacts:company_list", "contacts:pipeline"])
def test_lists_show_only_visible_records(client, org, url_name):
    mine = CompanyFactory(owner=org.rep_a1, name="Mine Traders")
    ContactFactory(owner=org.rep_a1, display_name="Mine Person", company=mine, phase=Phase.RETENTION)
    theirs = CompanyFactory(owner=org.rep_a2, name="Theirs Traders")
    ContactFactory(owner=org.rep_a2, display_name="Theirs Person", company=theirs, phase=Phase.RETENTION)
    client.force_login(org.rep_a1)
    page = client.get(reverse(url_name)).content.decode()
    assert "Mine" in page
    assert "Theirs" not in page


def test_contact_list_query_count_does_not_grow_with_rows(client, org, django_assert_max_num_queries):
    company = CompanyFactory(owner=org.rep_a1)
    ContactFactory.create_batch(60, owner=org.rep_a1, company=company)
    client.force_login(org.manager_a)
    # session, user, notifications, custom fields, rows, their tags, and the choices of the filters
    # (owner, team, tags), the saved views, the bulk "assign to" owner list, and the visible owners
    with django_assert_max_num_queries(12):
        response = client.get(reverse("contacts:contact_list"))
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 50


def test_company_list_and_detail_query_counts(client, org, django_assert_max_num_queries):
    companies = CompanyFactory.create_batch(30, owner=org.rep_a1)
    ContactFactory.create_batch(20, owner=org.rep_a1, company=companies[0])
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("contacts:company_list")).status_code == 200
    with django_assert_max_num_queries(COMPANY_PAGE_QUERIES):
        assert client.get(companies[0].get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("contacts:pipeline")).status_code == 200


@pytest.mark.parametrize(
    "query",
    ["Kumar", "राजेश", "rajesh.kumar@example", "098450 12345", "+91 98450-12345", "9845012345", "Ganga Agro"],
)
def test_search_finds_a_contact_by_name_email_phone_or_company(client, org, query):
    company = CompanyFactory(owner=org.rep_a1, name="Ganga Agro Foods")
    contact_create(
        by=org.rep_a1,
        given_name="राजेश",
        family_name="Kumar",
        email="Rajesh.Kumar@Example.com",
        phone="+91 98450 12345",
        company=company,
    )
    ContactFactory(owner=org.rep_a1, display_name="Someone Else", email="else@example.org")
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_list"), {"q": query}).content.decode()
    assert "राजेश Kumar" in page
    assert "Someone Else" not in page


def test_search_never_reaches_other_owners_records(client, org):
    ContactFactory(owner=org.rep_a2, display_name="Secret Sunita")
    client.force_login(org.rep_a1)
    assert "Secret Sunita" not in client.get(reverse("contacts:contact_list"), {"q": "Sunita"}).content.decode()


def test_owner_filter_cannot_be_used_to_peek_at_another_owner(client, org):
    ContactFactory(owner=org.rep_a2, display_name="Secret Sunita")
    client.force_login(org.rep_a1)
    response = client.get(reverse("contacts:contact_list"), {"owner": org.rep_a2.pk})
    assert "Secret Sunita" not in response.content.decode()


def test_htmx_search_returns_only_the_rows(client, org):
    ContactFactory(owner=org.rep_a1, display_name="Asha Bhosle")
    client.force_login(org.rep_a1)
    response = client.get(reverse("contacts:contact_list"), {"q": "Asha"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Asha Bhosle" in body and "<html" not in body


def test_names_with_markup_are_escaped(client, org):
    ContactFactory(owner=org.rep_a1, display_name='<script>alert("x")</script>')
    client.force_login(org.rep_a1)
    body = client.get(reverse("contacts:contact_list")).content.decode()
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;" in body


def test_contact_create_normalises_email_and_phone(org):
    contact = contact_create(
        by=org.rep_a1, given_name="Sneha", family_name="Kulkarni", email="  Sneha@Example.COM ", phone="098450 12345"
    )
    assert contact.display_name == "Sneha Kulkarni"
    assert contact.email == "sneha@example.com"
    assert contact.phone == "+919845012345"


def test_contact_create_rejects_a_bad_phone_and_saves_nothing(org):
    from django.core.exceptions import ValidationError

    from contacts.models import Contact

    with pytest.raises(ValidationError) as error:
        contact_create(by=org.rep_a1, given_name="Bad", phone="12")
    assert "phone" in error.value.message_dict
    assert not Contact.objects.exists()
