"""The demo tickets: customers only, after they first bought, a live queue and a history."""

import pytest
from django.core.management import call_command

from contacts.models import Phase, PhaseChange
from support.models import ACTIVE_STATUSES, Status, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_has_tickets_of_customers_in_every_state(settings):
    settings.DEBUG = True
    call_command("seed_demo", contacts=80)
    tickets = list(Ticket.objects.select_related("contact"))
    assert len(tickets) >= 5
    assert {ticket.contact.phase for ticket in tickets} <= {Phase.RETENTION, Phase.EXTENSION, Phase.CHURNED}
    for ticket in tickets:
        first_bought = (
            PhaseChange.objects.filter(contact=ticket.contact, to_phase=Phase.RETENTION).order_by("at").first()
        )
        assert ticket.created_at >= (first_bought.at if first_bought else ticket.contact.created_at)
    statuses = {ticket.status for ticket in tickets}
    assert Status.CLOSED in statuses or Status.RESOLVED in statuses
    assert Ticket.objects.filter(satisfaction__isnull=False).exists()
    assert Ticket.objects.filter(time_entries__isnull=False).exists()
    assert all(ticket.first_response_due_at for ticket in tickets)
    assert Ticket.objects.filter(status__in=ACTIVE_STATUSES).exists() or len(tickets) < 10
