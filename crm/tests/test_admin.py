"""Every model is in the admin, and its pages open."""

import pytest
from django.contrib import admin

from contacts.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"crm", "contacts", "campaigns", "analytics"}


def test_every_model_of_ours_is_registered():
    from django.apps import apps

    ours = {model for model in apps.get_models() if model._meta.app_label in OUR_APPS}
    inlined = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    assert ours <= set(admin.site._registry) | inlined


def test_admin_list_add_and_change_pages_open(client, org):
    company = CompanyFactory(owner=org.rep_a1)
    contact = ContactFactory(owner=org.rep_a1, company=company)
    client.force_login(org.admin)
    objects = {"crm.user": org.rep_a1, "crm.team": org.team_a, "contacts.company": company, "contacts.contact": contact}
    for label, obj in objects.items():
        app, model = label.split(".")
        base = f"/admin/{app}/{model}/"
        assert client.get(base).status_code == 200, base
        assert client.get(base, {"q": "a"}).status_code == 200, base
        assert client.get(f"{base}add/").status_code == 200, base
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, base
