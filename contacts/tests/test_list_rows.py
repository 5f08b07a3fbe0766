"""{% contact_rows %} writes the rows the template loop wrote, escaped, in the user's language and zone."""

import datetime

import pytest
from django.template import engines
from django.utils import timezone, translation

from contacts.models import Contact, Phase, Tag
from contacts.selectors import contact_list_rows
from contacts.templatetags.list_rows import contact_rows, url_maker
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.tests.test_fields import tokens

pytestmark = pytest.mark.django_db

# The loop the tag replaces, as it was in contacts/partials/contact_rows.html.
TEMPLATE_ROWS = """{% load i18n l10n %}{% for contact in object_list %}
    <tr>
      <td><input class="form-check-input" type="checkbox" name="{{ prefix }}-ids" value="{{ contact.pk|unlocalize }}" aria-label="{% blocktranslate with name=contact.display_name %}Select {{ name }}{% endblocktranslate %}"></td>
      <td><a href="{{ contact.get_absolute_url }}">{{ contact.display_name }}</a>{% for tag in contact.tags.all %} <span class="badge text-bg-light border">{{ tag.name }}</span>{% endfor %}</td>
      <td>{% if contact.company %}<a href="{{ contact.company.get_absolute_url }}">{{ contact.company.name }}</a>{% endif %}</td>
      <td>{{ contact.email }}</td>
      <td>{{ contact.phone }}</td>
      <td>{{ contact.city }}</td>
      <td>{{ contact.get_phase_display }}</td>
      <td>{{ contact.owner }}</td>
      <td>{{ contact.last_activity_at|date:"SHORT_DATE_FORMAT" }}</td>
      <td>{{ contact.created_at|date:"SHORT_DATE_FORMAT" }}</td>
    </tr>{% endfor %}"""  # noqa: E501 - the template's own lines


@pytest.fixture
def rows(org):
    company = CompanyFactory(name="Tata & <Sons>", owner=org.rep_a1)
    risky = ContactFactory(
        display_name="<script>alert(1)</script>",
        email="a&b@example.com",
        phone="+919876543210",
        city='Pune "East"',
        owner=org.rep_a1,
        company=company,
        phase=Phase.RETENTION,
        last_activity_at=datetime.datetime(2026, 3, 31, 20, 0, tzinfo=datetime.UTC),
    )
    risky.tags.add(Tag.objects.create(name="vip <b>"), Tag.objects.create(name="diwali"))
    ContactFactory(display_name="शर्मा जी", owner=org.rep_a2, phase=Phase.CHURNED)
    return list(contact_list_rows(user=org.admin).order_by("id"))


@pytest.mark.parametrize("language", ["en", "hi", "kn"])
def test_it_writes_the_rows_of_the_template_loop(rows, language):
    with translation.override(language), timezone.override("Asia/Kolkata"):
        expected = engines["django"].from_string(TEMPLATE_ROWS).render({"object_list": rows, "prefix": "bulk"})
        assert tokens(contact_rows(rows, "bulk")) == tokens(expected)


def test_it_escapes_every_value(rows):
    html = contact_rows(rows, "bulk")
    assert "<script>" not in html and "<b>" not in html and "<Sons>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Tata &amp; &lt;Sons&gt;" in html


def test_its_links_are_the_records_own(rows):
    contact = Contact.objects.get(pk=rows[0].pk)
    assert url_maker("contacts:contact_detail")(contact.pk) == contact.get_absolute_url()
    assert url_maker("contacts:company_detail")(contact.company.pk) == contact.company.get_absolute_url()
