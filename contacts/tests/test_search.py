"""The search box: what it finds, and that it asks in the form the trigram indexes answer."""

import pytest
from django.db import connection, transaction
from django.db.models import Q

from contacts.models import Company, Contact
from contacts.selectors import company_search, contact_list_rows, contact_search
from contacts.services import company_create, contact_create
from crm.models import User

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


def _plain_search(text):
    """The search's own conditions, by ILIKE alone: what the search-key indexes must not change."""
    return set(
        Contact.objects.filter(
            Q(display_name__trigram_contains=text)
            | Q(email__trigram_contains=text)
            | Q(company__name__trigram_contains=text)
            | Q(company__domain__trigram_contains=text)
        )
    )


def test_names_in_indic_scripts_are_found_within_and_across_vowel_signs(org):
    sharma = contact_create(by=org.rep_a1, given_name="अनीता", family_name="शर्मा")
    verma = contact_create(by=org.rep_a1, given_name="राहुल", family_name="वर्मा")
    sharmila = contact_create(by=org.rep_a1, given_name="শর্মিলা", family_name="দত্ত")
    shetty = contact_create(by=org.rep_a1, given_name="ಶ್ವೇತಾ", family_name="ಶೆಟ್ಟಿ")
    contact_create(by=org.rep_a1, given_name="Anita", family_name="Sharma")

    def found(text):
        return set(contact_search(Contact.objects.all(), text))

    assert found("शर्मा") == {sharma}
    assert found("र्मा") == {sharma, verma}  # begins with a consonant, across the virama and a vowel sign
    assert found("्मा") == {sharma, verma}  # begins with the virama itself
    assert found("अनीता शर्") == {sharma}  # across the space between the names
    assert found("শর্মি") == {sharmila}
    assert found("ಟ್ಟಿ") == {shetty}
    assert found("ಶೆ") == {shetty}
    assert found("ಶ್ವೇತಾ ಶೆಟ್ಟಿ") == {shetty}
    assert found("शर्मी") == set()
    for text in ("शर्मा", "र्मा", "्", "শর্মি", "ಟ್ಟಿ", "ಶೆ", "ा", "शर्मी"):
        assert found(text) == _plain_search(text), text


def test_a_name_mixing_scripts_is_found_whatever_the_case_of_its_latin_part(org):
    ravi = contact_create(by=org.rep_a1, given_name="Ravi", family_name="शर्मा")
    assert set(contact_search(Contact.objects.all(), "RAVI शर्")) == {ravi}
    assert set(contact_search(Contact.objects.all(), "vi श")) == {ravi}
    assert not contact_search(Contact.objects.all(), "Ravi  शर्").exists()


def test_a_company_named_in_devanagari_finds_its_people(org):
    ganga = company_create(by=org.rep_a1, name="गंगा एग्रो फूड्स")
    latin = contact_create(by=org.rep_a1, given_name="Sunita", family_name="Rao", company=ganga)
    assert set(contact_search(Contact.objects.all(), "एग्रो")) == {latin} == _plain_search("एग्रो")
    assert list(company_search(Company.objects.all(), "ग्रो")) == [ganga]


def test_indic_text_is_asked_of_the_search_key_index_and_latin_text_is_not(org):
    indic = str(contact_search(Contact.objects.all(), "शर्मा").query)
    assert "search_key(" in indic and "ILIKE" in indic
    assert "search_key(" not in str(contact_search(Contact.objects.all(), "sharma").query)


def test_the_search_key_index_answers_an_indic_search(org):
    contact_create(by=org.rep_a1, given_name="अनीता", family_name="शर्मा")
    query = contact_search(Contact.objects.all(), "र्मा").order_by().values("id").query
    sql, params = query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows would be read in full, and the plain trigram index can answer too (with
        # one-letter trigrams): the question is whether the search-key index can.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("DROP INDEX contact_name_trgm")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_name_key_trgm" in plan


def test_the_list_rows_show_what_the_access_rule_shows(org):
    for owner in (org.rep_a1, org.rep_a2, org.rep_b1, org.rep_b2, org.manager_a):
        contact_create(by=owner, given_name="Priya", family_name=owner.username)
    for user in vars(org).values():
        if isinstance(user, User):
            listed = set(contact_list_rows(user=user).filter(display_name__trigram_contains="priya"))
            assert listed == set(Contact.objects.visible_to(user)), user.username
