"""The admin of support: policies editable (with their working days), tickets and time entries listed."""

import pytest
from django.urls import reverse

from support.models import SLAPolicy
from support.services import time_entry_add
from support.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_of_support_open(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    entry = time_entry_add(ticket=ticket, by=org.rep_a1, minutes=10)
    client.force_login(org.admin)
    for name, args in [
        ("admin:support_ticket_changelist", []),
        ("admin:support_ticket_change", [ticket.pk]),
        ("admin:support_slapolicy_changelist", []),
        ("admin:support_slapolicy_change", [SLAPolicy.objects.get(priority="urgent").pk]),
        ("admin:support_timeentry_changelist", []),
        ("admin:support_timeentry_change", [entry.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name


def test_an_admin_sets_business_hours_on_a_policy(org, client):
    policy = SLAPolicy.objects.get(priority="high")
    client.force_login(org.admin)
    data = {
        "priority": "high",
        "first_response_minutes": "120",
        "resolution_minutes": "600",
        "business_hours_only": "on",
        "day_starts_at": "10:00",
        "day_ends_at": "19:00",
        "working_days": ["1", "2", "3", "4", "5"],
    }
    response = client.post(reverse("admin:support_slapolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.business_hours_only and policy.working_days == [1, 2, 3, 4, 5]
    bad = client.post(reverse("admin:support_slapolicy_change", args=[policy.pk]), {**data, "working_days": []})
    assert bad.status_code == 200 and "Choose at least one working day." in bad.content.decode()
