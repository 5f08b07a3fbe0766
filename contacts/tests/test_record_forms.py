"""The record forms and pages: contacts and companies created and edited, consent, phase changes,
referrals and the change history, with the access rule on every page."""

import datetime
from html import unescape
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from contacts.models import (
    Company,
    Consent,
    ConsentEvent,
    ConsentStatus,
    Contact,
    CustomField,
    FieldChange,
    Industry,
    Phase,
    PhaseChange,
    Referral,
)
from contacts.services import company_create, consent_set, contact_create, contact_save, phase_change, referral_add
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db

VALID_GSTIN = "29ABCDE1234F1ZW"


@pytest.fixture
def custom_fields(db):
    return {
        "visit_day": CustomField.objects.create(
            key="visit_day", label="Preferred visit day", kind=CustomField.Kind.CHOICE, choices=["Monday", "Friday"]
        ),
        "budget": CustomField.objects.create(key="budget", label="Annual budget", kind=CustomField.Kind.NUMBER),
        "anniversary": CustomField.objects.create(
            key="anniversary", label="Business anniversary", kind=CustomField.Kind.DATE
        ),
        "card": CustomField.objects.create(key="card", label="Loyalty card", kind=CustomField.Kind.TEXT),
    }


def _contact_data(**overrides) -> dict:
    data = {
        "given_name": "Ravi",
        "family_name": "Kumar",
        "display_name": "",
        "email_0": "",
        "email_1": "",
        "phone_0": "",
        "phone_1": "",
        "company": "",
        "job_title": "",
        "address_line": "",
        "city": "Bengaluru",
        "state": "Karnataka",
        "postcode": "",
        "country": "IN",
        "customer_type": "b2c",
        "source": "",
        "preferred_language": "",
        "preferred_channel": "",
        "tags": "",
        "owner": "",
        "social_platform_0": "",
        "social_handle_0": "",
        "social_platform_1": "",
        "social_handle_1": "",
    }
    data.update(overrides)
    return data


def _company_data(user, **overrides) -> dict:
    data = {
        "name": "Ganga Agro",
        "domain": "",
        "industry": "",
        "size_band": "",
        "gstin": "",
        "phone": "",
        "address_line": "",
        "city": "Mysuru",
        "state": "Karnataka",
        "postcode": "",
        "country": "IN",
        "owner": user.pk,
        "tags": "",
    }
    data.update(overrides)
    return data


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _text(client, url) -> str:
    """The page as a reader sees it: no tags, entities decoded, white space collapsed."""
    return " ".join(unescape(strip_tags(_page(client, url))).split())


def _errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


# Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["contact_edit", "contact_history", "contact_referral_add"])
def test_contact_record_pages_follow_the_access_rule(org, name):
    contact = ContactFactory(owner=org.rep_a1)
    assert_access(
        reverse(f"contacts:{name}", args=[contact.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


@pytest.mark.parametrize("name", ["contact_consent", "contact_phase", "contact_referral_add", "contact_edit"])
def test_contact_record_forms_refuse_other_owners_records(org, name):
    """Sent empty, the form comes back with its messages to those who may see the contact; others get 404."""
    contact = ContactFactory(owner=org.rep_b1)
    assert_access(
        reverse(f"contacts:{name}", args=[contact.pk]),
        method="post",
        data={},
        allowed=[org.rep_b1, org.rep_b2, org.manager_b, org.admin],
        denied=[org.rep_a1, org.manager_a],
    )
    assert not ConsentEvent.objects.exists() and not Referral.objects.exists()
    assert PhaseChange.objects.count() == 0


@pytest.mark.parametrize("name", ["company_edit", "company_history"])
def test_company_record_pages_follow_the_access_rule(org, name):
    company = CompanyFactory(owner=org.rep_b1)
    assert_access(
        reverse(f"contacts:{name}", args=[company.pk]),
        allowed=[org.rep_b1, org.rep_b2, org.manager_b, org.admin],
        denied=[org.rep_a1, org.manager_a],
    )


def test_company_edit_refuses_a_post_to_another_owners_company(org):
    company = CompanyFactory(owner=org.rep_a1, name="Kept Name")
    assert_access(
        reverse("contacts:company_edit", args=[company.pk]),
        method="post",
        data=_company_data(org.rep_a2, name="Taken Over"),
        allowed=[],
        denied=[org.rep_a2, org.rep_b1, org.manager_b],
    )
    company.refresh_from_db()
    assert company.name == "Kept Name"


@pytest.mark.parametrize("name", ["contact_create", "company_create", "company_suggest"])
def test_every_user_may_create_contacts_and_companies(org, name):
    assert_access(
        reverse(f"contacts:{name}"),
        allowed=[org.rep_a1, org.rep_b2, org.manager_a, org.admin],
    )


def test_lists_link_to_the_new_record_forms(client, org):
    client.force_login(org.rep_a1)
    assert reverse("contacts:contact_create") in _page(client, reverse("contacts:contact_list"))
    assert reverse("contacts:company_create") in _page(client, reverse("contacts:company_list"))


def test_record_pages_link_to_their_edit_forms(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    company = CompanyFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    assert reverse("contacts:contact_edit", args=[contact.pk]) in _page(client, contact.get_absolute_url())
    assert reverse("contacts:company_edit", args=[company.pk]) in _page(client, company.get_absolute_url())


def test_company_suggestions_name_only_companies_the_user_may_see(client, org):
    CompanyFactory(owner=org.rep_a1, name="Ganga Agro")
    CompanyFactory(owner=org.rep_a2, name="Ganga Hidden Traders")
    client.force_login(org.rep_a1)
    body = _page(client, reverse("contacts:company_suggest") + "?company=ganga")
    assert 'value="Ganga Agro"' in body
    assert "Hidden" not in body


# Creating and editing a contact ----------------------------------------------------------


def test_rep_creates_a_contact_with_several_emails_phones_and_custom_fields(client, org, custom_fields):
    company = CompanyFactory(owner=org.rep_a1, name="Ganga Agro")
    client.force_login(org.rep_a1)
    data = _contact_data(
        email_0=" Ravi@Example.COM ",
        email_1="ravi.kumar@work.example",
        email_2="",
        phone_0="098450 12345",
        phone_1="+44 20 7946 0958",
        company="ganga agro",
        job_title="Buyer",
        postcode="560 001",
        source="referral",
        preferred_language="hi",
        preferred_channel="whatsapp",
        is_influencer="on",
        tags="VIP, Wholesale, VIP",
        social_platform_0="linkedin",
        social_handle_0="https://www.linkedin.com/in/ravi",
        social_platform_1="instagram",
        social_handle_1="@ravi.k",
        custom_visit_day="Friday",
        custom_budget="1,50,000",
        custom_anniversary="2019-04-15",
        custom_card="LC 1234",
    )
    response = client.post(reverse("contacts:contact_create"), data)

    contact = Contact.objects.get()
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url()
    assert contact.display_name == "Ravi Kumar"
    assert contact.owner == org.rep_a1  # no rules: the creator
    assert contact.company == company
    assert contact.email == "ravi@example.com" and contact.phone == "+919845012345"
    assert [(e.email, e.is_primary) for e in contact.emails.all()] == [
        ("ravi@example.com", True),
        ("ravi.kumar@work.example", False),
    ]
    assert [p.number for p in contact.phones.all()] == ["+919845012345", "+442079460958"]
    assert sorted(contact.tags.values_list("name", flat=True)) == ["VIP", "Wholesale"]
    assert sorted(contact.social_accounts.values_list("platform", "handle")) == [
        ("instagram", "@ravi.k"),
        ("linkedin", "https://www.linkedin.com/in/ravi"),
    ]
    assert contact.custom == {"visit_day": "Friday", "budget": 150000, "anniversary": "2019-04-15", "card": "LC 1234"}
    assert contact.is_influencer and contact.preferred_channel == "whatsapp" and contact.postcode == "560001"

    page = _text(client, response["Location"])
    assert "Saved." in page
    for shown in ("ravi.kumar@work.example", "+44 20 7946 0958", "Preferred visit day", "LinkedIn: https://www"):
        assert shown in page


def test_custom_fields_are_stored_as_numbers_iso_dates_and_text(client, org, custom_fields):
    client.force_login(org.rep_a1)
    client.post(reverse("contacts:contact_create"), _contact_data(custom_budget="12.5", custom_anniversary=""))
    assert Contact.objects.get().custom == {"budget": 12.5}


def test_form_shows_an_input_per_active_custom_field_with_the_stored_value(client, org, custom_fields):
    CustomField.objects.create(key="retired", label="Retired field", active=False)
    contact = contact_create(
        by=org.rep_a1, given_name="Asha", custom={"visit_day": "Monday", "budget": 5000, "anniversary": "2020-01-31"}
    )
    client.force_login(org.rep_a1)
    response = client.get(reverse("contacts:contact_edit", args=[contact.pk]))
    form = response.context["form"]
    assert [field.name for field in form.custom_inputs] == [
        "custom_visit_day",
        "custom_budget",
        "custom_anniversary",
        "custom_card",
    ]
    body = response.content.decode()
    assert 'value="2020-01-31"' in body and 'value="5000"' in body and "Retired field" not in body


def test_editing_replaces_emails_and_phones_and_records_each_change(client, org, custom_fields):
    contact = contact_create(
        by=org.rep_a1,
        given_name="Ravi",
        family_name="Kumar",
        emails=["ravi@example.com", "old@example.com"],
        phones=["9845012345"],
        custom={"budget": 5000, "card": "LC1"},
    )
    client.force_login(org.rep_a1)
    data = _contact_data(
        given_name="Ravindra",
        email_0="new@example.com",
        email_1="ravi@example.com",
        email_2="",
        phone_0="",
        phone_1="",
        custom_budget="7500",
        custom_card="",
        tags="Diwali 2025",
        owner=org.rep_a1.pk,
    )
    response = client.post(reverse("contacts:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 302

    contact.refresh_from_db()
    assert contact.display_name == "Ravindra Kumar"  # followed the given name
    assert contact.email == "new@example.com" and contact.phone == ""
    assert list(contact.emails.values_list("email", flat=True)) == ["new@example.com", "ravi@example.com"]
    assert contact.custom == {"budget": 7500}
    changed = set(FieldChange.objects.filter(record_id=contact.pk).values_list("field", flat=True))
    assert {"given_name", "display_name", "emails", "phones", "custom:budget", "custom:card", "tags"} <= changed

    page = _text(client, contact.get_absolute_url())
    assert "Email addresses" in page and "ravi@example.com, old@example.com" in page
    assert "Annual budget" in page and "5000" in page and "7500" in page
    assert "Given name" in page and "Ravi" in page and "Ravindra" in page


def test_edit_form_shows_what_the_contact_has_and_one_empty_input_more(client, org):
    contact = contact_create(
        by=org.rep_a1, given_name="Ravi", emails=["a@example.com", "b@example.com"], phones=["9845012345"]
    )
    client.force_login(org.rep_a1)
    form = client.get(reverse("contacts:contact_edit", args=[contact.pk])).context["form"]
    assert [field.value() for field in form.email_fields] == ["a@example.com", "b@example.com", None]
    assert [field.value() for field in form.phone_fields] == ["+91 98450 12345", None]
    assert [field.label for field in form.email_fields] == ["Email", "Email 2", "Email 3"]


def test_marking_and_unmarking_an_influencer(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Meena")
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_edit", args=[contact.pk])
    client.post(url, _contact_data(given_name="Meena", family_name="", is_influencer="on", owner=org.rep_a1.pk))
    contact.refresh_from_db()
    assert contact.is_influencer
    client.post(url, _contact_data(given_name="Meena", family_name="", owner=org.rep_a1.pk))
    contact.refresh_from_db()
    assert not contact.is_influencer
    assert FieldChange.objects.filter(record_id=contact.pk, field="is_influencer").count() == 2


def test_the_assignment_rules_choose_the_owner_when_none_is_given(client, org):
    from contacts.models import AssignmentRule

    AssignmentRule.objects.create(name="Mysuru", match="city", value="Mysuru", strategy="user", user=org.rep_a2)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_create"), _contact_data(city="Mysuru"), follow=True)
    contact = Contact.objects.get()
    assert contact.owner == org.rep_a2
    # rep_a1 cannot see rep_a2's records: back to the list, told who has it
    assert response.request["PATH_INFO"] == reverse("contacts:contact_list")
    assert str(org.rep_a2) in response.content.decode()


def test_a_rep_cannot_give_a_contact_to_someone_they_cannot_see(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_create"), _contact_data(owner=org.rep_b1.pk))
    assert response.status_code == 200 and _errors(response, "owner")
    assert not Contact.objects.exists()


def test_a_company_the_user_cannot_see_cannot_be_chosen(client, org):
    CompanyFactory(owner=org.rep_a2, name="Hidden Traders")
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_create"), _contact_data(company="Hidden Traders"))
    assert "No company you can see is called “Hidden Traders”" in " ".join(_errors(response, "company"))
    assert not Contact.objects.exists()


# Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email_1", "not-an-email", "is not a valid email address"),
        ("phone_1", "12", "is not a valid phone number"),
        ("given_name", '<script>alert("x")</script>', "cannot contain"),
        ("family_name", "Ku\x00mar", "Null characters are not allowed"),
        ("job_title", "Buyer\x07", "control characters"),
        ("given_name", "R" * 151, "at most 150 characters"),
        ("postcode", "5600", "six digits"),
        ("country", "India", "at most 2 characters"),
        ("social_handle_0", "@ravi", "Choose the platform"),
    ],
)
def test_bad_input_gets_a_message_on_its_input_and_saves_nothing(client, org, field, value, message):
    client.force_login(org.rep_a1)
    data = _contact_data(email_0="ravi@example.com", **{field: value})
    response = client.post(reverse("contacts:contact_create"), data)
    assert response.status_code == 200
    errors = _errors(response, "social_platform_0" if field == "social_handle_0" else field)
    assert any(message in error for error in errors), response.context["form"].errors
    assert not Contact.objects.exists()
    body = response.content.decode()
    assert "Nothing is saved yet" in body
    assert "<script>alert" not in body
    assert 'value="ravi@example.com"' in body  # what was typed stays


def test_a_contact_needs_a_name(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_create"), _contact_data(given_name="", family_name=""))
    assert _errors(response, "given_name") == ["Give at least a given name or a family name."]


def test_a_failed_edit_changes_nothing_and_keeps_what_was_typed(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi", family_name="Kumar", emails=["ravi@example.com"])
    client.force_login(org.rep_a1)
    data = _contact_data(given_name="Ravindra", job_title="Owner", email_0="ravi@example", tags="VIP")
    response = client.post(reverse("contacts:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 200
    assert 'value="Ravindra"' in response.content.decode()
    contact.refresh_from_db()
    assert (contact.given_name, contact.job_title, contact.email) == ("Ravi", "", "ravi@example.com")
    assert not contact.tags.exists()
    assert not FieldChange.objects.filter(record_id=contact.pk).exclude(field="created").exists()


def test_contact_save_is_all_or_nothing(org, custom_fields):
    """A part that fails late (a value that does not fit its custom field) undoes the parts before it."""
    contact = contact_create(by=org.rep_a1, given_name="Ravi", emails=["ravi@example.com"])
    with pytest.raises(ValidationError) as error:
        contact_save(
            by=org.rep_a1,
            contact=contact,
            fields={"given_name": "Changed", "job_title": "Owner"},
            emails=["other@example.com"],
            tags=["VIP"],
            custom={"visit_day": "Sunday"},
        )
    assert "custom_visit_day" in error.value.message_dict
    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.given_name, contact.job_title, contact.email) == ("Ravi", "", "ravi@example.com")
    assert list(contact.emails.values_list("email", flat=True)) == ["ravi@example.com"]
    assert not contact.tags.exists()
    assert not FieldChange.objects.exclude(field="created").exists()


def test_markup_in_saved_text_is_shown_escaped(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Asha", job_title="<b>Boss</b>")
    contact_save(by=org.rep_a1, contact=contact, fields={"job_title": "<img src=x onerror=alert(1)>"})
    client.force_login(org.rep_a1)
    body = _page(client, contact.get_absolute_url())
    assert "<b>Boss</b>" not in body and "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


# Companies -------------------------------------------------------------------------------


def test_rep_creates_and_edits_a_company(client, org):
    industry = Industry.objects.create(name="Agriculture")
    client.force_login(org.rep_a1)
    data = _company_data(
        org.rep_a1,
        domain="https://www.GangaAgro.in/about",
        industry=industry.pk,
        size_band="10-49",
        gstin="29abcde1234f1zw",
        phone="0821 242 2222",
        postcode="570001",
        tags="Wholesale",
    )
    response = client.post(reverse("contacts:company_create"), data)
    company = Company.objects.get()
    assert response["Location"] == company.get_absolute_url()
    assert (company.domain, company.gstin, company.phone) == ("gangaagro.in", VALID_GSTIN, "+918212422222")
    assert company.industry == industry and list(company.tags.values_list("name", flat=True)) == ["Wholesale"]

    response = client.post(
        reverse("contacts:company_edit", args=[company.pk]),
        _company_data(org.rep_a1, name="Ganga Agro Foods", tags="Wholesale, VIP"),
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Ganga Agro Foods" and company.gstin == ""
    page = _text(client, company.get_absolute_url())
    assert "Ganga Agro → Ganga Agro Foods" in page
    assert "Tags" in page and "VIP, Wholesale" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gstin", "29ABCDE1234F1Z5", "not a valid GSTIN"),
        ("phone", "12345", "not a valid phone number"),
        ("domain", "not a domain", "like example.com"),
        ("name", "<script>x</script>", "cannot contain"),
        ("name", "Agro\x00", "Null characters"),
    ],
)
def test_bad_company_input_gets_a_message_on_its_input_and_saves_nothing(client, org, field, value, message):
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:company_create"), _company_data(org.rep_a1, **{field: value}))
    assert response.status_code == 200
    assert any(message in error for error in _errors(response, field)), response.context["form"].errors
    assert not Company.objects.exists()


def test_a_bad_gstin_on_edit_changes_nothing(client, org):
    company = company_create(by=org.rep_a1, name="Ganga Agro", gstin=VALID_GSTIN)
    client.force_login(org.rep_a1)
    data = _company_data(org.rep_a1, name="Renamed", gstin="29ABCDE1234F1Z5")
    response = client.post(reverse("contacts:company_edit", args=[company.pk]), data)
    assert "not a valid GSTIN" in " ".join(_errors(response, "gstin"))
    company.refresh_from_db()
    assert (company.name, company.gstin) == ("Ganga Agro", VALID_GSTIN)


# Consent ---------------------------------------------------------------------------------


def test_consent_is_granted_and_withdrawn_with_the_same_form_and_kept_in_history(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_consent", args=[contact.pk])
    wording = "I agree to receive offers on WhatsApp."
    response = client.post(
        url, {"channel": "whatsapp", "status": "granted", "method": "Signed paper form", "wording": wording}
    )
    assert response.status_code == 302
    assert Consent.objects.get(contact=contact, channel="whatsapp").status == ConsentStatus.GRANTED

    client.post(url, {"channel": "whatsapp", "status": "withdrawn", "method": "Phone call", "wording": ""})
    assert Consent.objects.get(contact=contact, channel="whatsapp").status == ConsentStatus.WITHDRAWN
    assert list(ConsentEvent.objects.filter(contact=contact).values_list("status", "method", "recorded_by")) == [
        ("withdrawn", "Phone call", org.rep_a1.pk),
        ("granted", "Signed paper form", org.rep_a1.pk),
    ]
    page = _text(client, contact.get_absolute_url())
    assert wording in page and "Signed paper form" in page and "Phone call" in page
    assert "WhatsApp: consent withdrawn." in page
    assert "Not asked" in page  # the other channels


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"channel": "email", "status": "granted", "method": ""}, "method", "Say how"),
        ({"channel": "email", "method": "Web form"}, "status", "Grant"),
        ({"channel": "fax", "status": "granted", "method": "Web form"}, "channel", "valid choice"),
    ],
)
def test_consent_without_how_or_without_a_button_is_refused(client, org, data, field, message):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_consent", args=[contact.pk]), data)
    assert response.status_code == 200
    errors = response.context["consent_form"].errors[field]
    assert any(message in error for error in errors)
    assert not ConsentEvent.objects.exists() and not Consent.objects.exists()


# Phases ----------------------------------------------------------------------------------


def test_a_manual_phase_change_needs_a_reason_and_is_kept_in_history(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_phase", args=[contact.pk])

    response = client.post(url, {"to": "acquisition", "reason": "  "})
    assert response.status_code == 200 and response.context["phase_form"].errors["reason"]
    contact.refresh_from_db()
    assert contact.phase == Phase.SELECTION

    response = client.post(url, {"to": "acquisition", "reason": "Asked for a quote at the trade fair"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phase == Phase.ACQUISITION
    move = PhaseChange.objects.filter(contact=contact).first()
    assert (move.from_phase, move.to_phase, move.by, move.reason) == (
        "selection",
        "acquisition",
        org.rep_a1,
        "Asked for a quote at the trade fair",
    )
    phase_change(contact=contact, to=Phase.RETENTION, rule="first order")
    page = _text(client, contact.get_absolute_url())
    assert "Asked for a quote at the trade fair" in page and "Rule: first order" in page


def test_the_phase_form_does_not_offer_the_current_phase(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_phase", args=[contact.pk]), {"to": "selection", "reason": "x"})
    assert response.context["phase_form"].errors["to"]
    assert PhaseChange.objects.filter(contact=contact).count() == 1  # the first one, on create


# Referrals -------------------------------------------------------------------------------


def test_referrals_are_added_from_a_search_and_counted_on_both_sides(client, org):
    influencer = contact_create(by=org.rep_a1, given_name="Meena", family_name="Iyer", is_influencer=True)
    friend = contact_create(by=org.rep_a1, given_name="Sunil", family_name="Rao")
    company = company_create(by=org.rep_a1, name="Sunrise Bakers")
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_referral_add", args=[influencer.pk])

    body = _page(client, url + "?q=Sun")
    assert f'value="contact:{friend.pk}"' in body and f'value="company:{company.pk}"' in body
    assert f'value="contact:{influencer.pk}"' not in body  # not themselves
    client.post(url, {"target": f"contact:{friend.pk}", "note": "Her cousin"})
    client.post(url, {"target": f"company:{company.pk}", "note": ""})

    assert Referral.objects.filter(referrer=influencer).count() == 2
    page = _text(client, influencer.get_absolute_url())
    assert "Referred / influences: 2" in page and "Sunil Rao" in page and "Her cousin" in page
    assert "Referred by: 0" in page
    assert "Referred by: 1" in _text(client, friend.get_absolute_url())
    company_page = _text(client, company.get_absolute_url())
    assert "Referred by: 1" in company_page and "Meena Iyer" in company_page


def test_referral_search_and_add_reach_only_visible_records(client, org):
    referrer = contact_create(by=org.rep_a1, given_name="Meena")
    hidden = contact_create(by=org.rep_a2, given_name="Meenakshi")
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_referral_add", args=[referrer.pk])
    assert f"contact:{hidden.pk}" not in _page(client, url + "?q=Meena")
    response = client.post(url, {"target": f"contact:{hidden.pk}", "note": ""})
    assert response.status_code == 200 and response.context["form"].errors["target"]
    assert not Referral.objects.exists()


def test_referral_counts_show_only_what_the_user_may_see(client, org):
    referrer = contact_create(by=org.rep_a1, given_name="Meena")
    referral_add(referrer=referrer, by=org.rep_a1, contact=contact_create(by=org.rep_a1, given_name="Visible"))
    referral_add(referrer=referrer, by=org.admin, contact=contact_create(by=org.rep_a2, given_name="Hidden"))
    client.force_login(org.rep_a1)
    page = _text(client, referrer.get_absolute_url())
    assert "Referred / influences: 1" in page and "Hidden" not in page
    client.force_login(org.manager_a)
    assert "Referred / influences: 2" in _text(client, referrer.get_absolute_url())


# Change history --------------------------------------------------------------------------


def test_change_history_is_newest_first_with_readable_labels_and_a_page_for_more(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi", customer_type="b2c")
    contact_save(by=org.rep_a2, contact=contact, fields={"customer_type": "b2b"}, via="import #7")
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="contact",
            record_id=contact.pk,
            field="city",
            old_value=f"City {n}",
            new_value=f"City {n + 1}",
            changed_by=org.rep_a1,
            changed_at=contact.created_at - datetime.timedelta(days=100 - n),
        )
        for n in range(60)
    )
    client.force_login(org.rep_a1)
    page = _text(client, contact.get_absolute_url())
    newest = page.index("Consumer (B2C) → Business (B2B)")
    assert newest < page.index("City 59 → City 60")
    assert "Customer type" in page and "import #7" in page and str(org.rep_a2) in page
    assert "City 0 → City 1" not in page  # only the newest 50 on the record
    older = reverse("contacts:contact_history", args=[contact.pk])
    assert older in _page(client, contact.get_absolute_url())

    response = client.get(older)
    first_page = response.context["history"]
    assert len(first_page.items) == 50 and first_page.next_cursor
    rest = _text(client, f"{older}?{urlencode({'after': str(first_page.next_cursor)})}")
    assert "City 0 → City 1" in rest


def test_history_page_refuses_a_position_that_is_not_one(client, org):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    client.force_login(org.rep_a1)
    assert client.get(reverse("contacts:contact_history", args=[contact.pk]) + "?after=nonsense").status_code == 400


# Query counts ----------------------------------------------------------------------------


def _busy_contact(org, custom_fields, n: int) -> Contact:
    contact = contact_create(
        by=org.rep_a1,
        given_name="Ravi",
        emails=[f"ravi{i}@example.com" for i in range(n)],
        phones=[f"98450{i:05d}" for i in range(n)],
        company=company_create(by=org.rep_a1, name="Ganga Agro"),
        tags=[f"tag {i}" for i in range(n)],
        custom={"budget": 100},
    )
    contact_save(
        by=org.rep_a1,
        contact=contact,
        fields={},
        emails=[f"ravi{i}@example.com" for i in range(n)],
        phones=[f"98450{i:05d}" for i in range(n)],
        social_accounts=[("linkedin", f"ravi{i}") for i in range(n)],
    )
    for i in range(n):
        consent_set(contact=contact, channel="email", status="granted", method=f"form {i}", by=org.rep_a1)
        referral_add(referrer=contact, by=org.rep_a1, contact=contact_create(by=org.rep_a1, given_name=f"F{i}"))
        referral_add(referrer=contact_create(by=org.rep_a1, given_name=f"R{i}"), by=org.rep_a1, contact=contact)
        phase_change(contact=contact, to=[Phase.ACQUISITION, Phase.RETENTION][i % 2], by=org.rep_a1, reason="r")
    return contact


def test_contact_page_query_count_does_not_grow_with_its_data(
    client, org, custom_fields, django_assert_max_num_queries
):
    counts = []
    for n in (1, 8):
        contact = _busy_contact(org, custom_fields, n)
        client.force_login(org.rep_a1)
        with django_assert_max_num_queries(25), CaptureQueriesContext(connection) as queries:
            assert client.get(contact.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


COMPANY_PAGE_QUERIES = 12


def test_company_page_and_forms_query_counts(client, org, django_assert_max_num_queries):
    company = company_create(by=org.rep_a1, name="Ganga Agro", tags=["VIP", "Wholesale"])
    for i in range(5):
        referral_add(referrer=contact_create(by=org.rep_a1, given_name=f"R{i}"), by=org.rep_a1, company=company)
    contact = contact_create(by=org.rep_a1, given_name="Ravi", emails=["a@example.com", "b@example.com"])
    client.force_login(org.rep_a1)
    # the record, its people, tags, referrals, history, and the orders, deals and tickets panels
    with django_assert_max_num_queries(COMPANY_PAGE_QUERIES):
        assert client.get(company.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("contacts:contact_edit", args=[contact.pk])).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("contacts:company_edit", args=[company.pk])).status_code == 200
