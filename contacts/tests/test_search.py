"""The search box: what it finds, and that it asks in the form the trigram indexes answer."""

import pytest

from contacts.models import Contact
from contacts.selectors import contact_search
from contacts.services import company_create, contact_create

pytestmark = pytest.mark.django_db


def test_search_is_case_insensitive_over_names_emails_and_companies(org):
    ganga = company_create(by=org.rep_a1, name="Ganga Agro Foods")
    ravi = contact_create(by=org.rep_a1, given_name="Ravi", family_name="Sharma", email="ravi@example.in")
    sunita = contact_create(by=org.rep_a1, given_name="सुनीता", family_name="शर्मा", company=ganga)
    meera = contact_create(by=org.rep_a1, given_name="Meera", email="MEERA.Iyer@Example.com")

    def found(text):
        return set(contact_search(Contact.objects.all(), text))

    assert found("sHARm") == {ravi}
    assert found("शर्म") == {sunita}
    assert found("agro") == {sunita}
    assert found("iyer@example") == {meera}


def test_like_wildcards_typed_in_the_box_are_plain_characters(org):
    contact_create(by=org.rep_a1, given_name="Ravi", family_name="Sharma")
    percent = contact_create(by=org.rep_a1, given_name="100%", family_name="Pure")
    assert list(contact_search(Contact.objects.all(), "%")) == [percent]
    assert not contact_search(Contact.objects.all(), "R_vi").exists()


def test_search_uses_ilike_that_the_trigram_indexes_serve(org):
    sql = str(contact_search(Contact.objects.all(), "sharma").query)
    assert "ILIKE" in sql and "UPPER(" not in sql
