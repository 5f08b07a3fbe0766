"""Dashboard, preferences, language switch, reports and campaigns pages."""

import pytest
from django.urls import reverse

from contacts.models import Phase
from contacts.tests.factories import ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "dashboard",
        "preferences",
        "analytics:reports",
        "campaigns:index",
        "contacts:contact_list",
        "contacts:company_list",
        "contacts:pipeline",
    ],
)
def test_every_role_can_open_the_shell_pages(org, name):
    assert_access(reverse(name), allowed=[org.rep_a1, org.manager_a, org.admin])


def test_rep_dashboard_counts_only_their_records(client, org):
    ContactFactory.create_batch(3, owner=org.rep_a1, phase=Phase.RETENTION)
    ContactFactory.create_batch(5, owner=org.rep_a2)
    client.force_login(org.rep_a1)
    response = client.get(reverse("dashboard"))
    assert response.context["counts"]["contacts"] == 3
    assert {row["phase"]: row["count"] for row in response.context["phases"]}[Phase.RETENTION] == 3
    assert "team" not in response.context


def test_manager_dashboard_shows_each_team_member(client, org, django_assert_max_num_queries):
    ContactFactory.create_batch(2, owner=org.rep_a1, phase=Phase.CHURNED)
    ContactFactory.create_batch(4, owner=org.rep_a2)
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("dashboard"))
    team = {member.username: member for member in response.context["team"]}
    assert set(team) == {"manager_a", "rep_a1", "rep_a2"}
    assert team["rep_a1"].n_churned == 2 and team["rep_a2"].n_contacts == 4


def test_admin_dashboard_counts_users_and_teams(client, org):
    client.force_login(org.admin)
    counts = client.get(reverse("dashboard")).context["counts"]
    assert counts["users"] == 7 and counts["teams"] == 2


def test_language_switch_is_remembered_on_the_profile(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("set_language"), {"language": "kn", "next": "/contacts/"})
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.language == "kn"


def test_language_switch_refuses_an_outside_redirect_and_an_unknown_language(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.language == "en"


def test_preferences_change_language_and_time_zone(client, org):
    client.force_login(org.rep_a1)
    response = client.post(
        reverse("preferences"),
        {
            "first_name": "Asha",
            "last_name": "Rao",
            "email": "asha@example.com",
            "language": "hi",
            "time_zone": "Europe/London",
        },
    )
    assert response.status_code == 302
    org.rep_a1.refresh_from_db()
    assert (org.rep_a1.language, org.rep_a1.time_zone) == ("hi", "Europe/London")


def test_preferences_reject_an_unknown_time_zone(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("preferences"), {"language": "hi", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]


def test_reports_count_new_contacts_in_the_financial_year(client, org):
    ContactFactory.create_batch(3, owner=org.rep_a1)
    ContactFactory.create_batch(2, owner=org.rep_a2)
    client.force_login(org.rep_a1)
    response = client.get(reverse("analytics:reports"))
    assert sum(row["count"] for row in response.context["new_contacts"]) == 3
    assert len(response.context["new_contacts"]) == 12
    assert 'id="chart-data-new-contacts"' in response.content.decode()


def test_pages_carry_a_strict_content_security_policy(client, org):
    client.force_login(org.rep_a1)
    policy = client.get(reverse("dashboard"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
