"""Languages, money with Indian grouping, and the financial year."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.fiscal import financial_year
from crm.templatetags.money import money

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "first_letter"), [("hi", 0x900), ("bn", 0x980), ("kn", 0xC80)])
def test_navigation_is_translated_into_the_users_language(client, org, language, first_letter):
    org.rep_a1.language = language
    org.rep_a1.save()
    client.force_login(org.rep_a1)
    nav = {item["key"]: str(item["label"]) for item in client.get(reverse("dashboard")).context["nav_items"]}
    assert nav["contacts"] != "Contacts" and nav["dashboard"] != "Dashboard"
    assert nav["reports"] != "Reports"
    # written in the language's own script (Devanagari, Bengali, Kannada)
    assert all(first_letter <= ord(ch) < first_letter + 0x80 for ch in nav["contacts"] if ch.isalpha())


@pytest.mark.parametrize("language", ["en", "hi", "bn", "kn"])
def test_money_uses_indian_grouping(language):
    with translation.override(language):
        assert money(Decimal("1234567")) == "₹12,34,567.00"
        assert money(Decimal("100000000.5")) == "₹10,00,00,000.50"
        assert money(Decimal("999")) == "₹999.00"
        assert money(Decimal("-1234567.891")) == "-₹12,34,567.89"
        assert money(Decimal("2500"), "USD") == "$2,500.00"
        assert money(None) == ""


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        (datetime.date(2026, 4, 1), datetime.date(2026, 4, 1), "FY 2026-27"),
        (datetime.date(2026, 3, 31), datetime.date(2025, 4, 1), "FY 2025-26"),
        (datetime.date(2026, 12, 2), datetime.date(2026, 4, 1), "FY 2026-27"),
    ],
)
def test_financial_year_starts_in_april(day, start, label):
    year = financial_year(day)
    assert (year.start, year.label) == (start, label)
    assert year.end == datetime.date(start.year + 1, 4, 1)
    assert year.months()[0] == start and year.months()[-1] == datetime.date(start.year + 1, 3, 1)


def test_financial_year_start_month_is_a_setting(settings):
    settings.FINANCIAL_YEAR_START_MONTH = 1
    year = financial_year(datetime.date(2026, 12, 2))
    assert (year.start, year.end, year.label) == (datetime.date(2026, 1, 1), datetime.date(2027, 1, 1), "FY 2026")
