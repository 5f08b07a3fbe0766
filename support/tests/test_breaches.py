"""The breach job: each missed target is flagged once and its assignee told once, run it as often as you like."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from contacts.models import Activity, Notification
from crm.tests.factories import UserFactory
from support.breaches import sla_breaches_flag
from support.models import Priority, Status, Ticket, TicketEvent
from support.services import ticket_reply, ticket_set_status
from support.tasks import sla_breaches_flag_task
from support.tests.factories import TicketFactory


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def _breach_notices():
    return Notification.objects.filter(key__startswith="ticket-breach:")


@pytest.mark.django_db
def test_an_overdue_first_response_is_flagged_once_and_its_assignee_told_once():
    agent = UserFactory(language="en")
    ticket = TicketFactory(priority=Priority.URGENT, assignee=agent, at=_ago(minutes=90), subject="No power")
    assert sla_breaches_flag() == [(ticket.pk, "first_response")]
    assert sla_breaches_flag() == []
    ticket.refresh_from_db()
    assert ticket.first_response_breached_at == ticket.first_response_due_at
    assert ticket.resolution_breached_at is None  # four hours, not yet
    notice = _breach_notices().get()
    assert notice.user == agent and notice.url == ticket.get_absolute_url()
    assert "missed its first response target: No power" in notice.text
    assert ticket.events.filter(kind=TicketEvent.Kind.BREACH, to_value="first_response").count() == 1
    assert Activity.objects.filter(ref=f"support.ticket:{ticket.pk}", summary__contains="missed").count() == 1


@pytest.mark.django_db
def test_both_targets_are_flagged_and_an_unassigned_ticket_tells_the_contacts_owner():
    ticket = TicketFactory(priority=Priority.URGENT, at=_ago(hours=5))
    assert sorted(sla_breaches_flag()) == [(ticket.pk, "first_response"), (ticket.pk, "resolution")]
    assert set(Notification.objects.values_list("user", flat=True)) == {ticket.contact.owner_id}
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_answered_resolved_closed_and_future_tickets_are_not_flagged():
    answered = TicketFactory(priority=Priority.URGENT, at=_ago(minutes=30))
    ticket_reply(ticket=answered, by=answered.contact.owner, body="On it")
    Ticket.objects.filter(pk=answered.pk).update(first_response_due_at=_ago(minutes=1))
    resolved = TicketFactory(priority=Priority.URGENT, at=_ago(minutes=30))
    ticket_set_status(ticket=resolved, by=resolved.contact.owner, to=Status.RESOLVED, request_satisfaction=False)
    closed = TicketFactory(priority=Priority.URGENT, at=_ago(minutes=30))
    ticket_set_status(ticket=closed, by=closed.contact.owner, to=Status.CLOSED)
    Ticket.objects.filter(pk__in=[resolved.pk, closed.pk]).update(
        first_response_due_at=_ago(minutes=1), resolution_due_at=_ago(minutes=1)
    )
    TicketFactory(priority=Priority.URGENT)
    assert sla_breaches_flag() == []
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_job_is_scheduled_every_minute():
    call_command("setup_periodic_tasks")
    job = PeriodicTask.objects.get(task="support.tasks.sla_breaches_flag_task")
    assert job.crontab.minute == "*" and job.crontab.hour == "*" and job.enabled


@pytest.mark.django_db(transaction=True)
def test_the_job_through_a_real_worker_flags_and_notifies_once_however_often_it_runs(celery_worker):
    agents = [UserFactory(), UserFactory()]
    overdue = [
        TicketFactory(priority=Priority.URGENT, assignee=agents[n % 2], at=_ago(minutes=61 + n)) for n in range(6)
    ]
    on_time = TicketFactory(priority=Priority.URGENT, assignee=agents[0])

    assert sla_breaches_flag_task.delay().get(timeout=20) == 6
    assert sla_breaches_flag_task.delay().get(timeout=20) == 0
    assert sla_breaches_flag_task.delay().get(timeout=20) == 0

    flagged = Ticket.objects.filter(first_response_breached_at__isnull=False)
    assert set(flagged.values_list("pk", flat=True)) == {ticket.pk for ticket in overdue}
    assert _breach_notices().filter(user=agents[0]).count() == 3
    assert _breach_notices().filter(user=agents[1]).count() == 3
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 6
    on_time.refresh_from_db()
    assert on_time.first_response_breached_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_flag_each_breach_once():
    tickets = [TicketFactory(priority=Priority.URGENT, at=_ago(minutes=70)) for _ in range(30)]
    results, errors = [], []
    start = threading.Barrier(4)

    def run():
        try:
            start.wait()
            results.append(sla_breaches_flag(batch_size=10))
            while batch := sla_breaches_flag(batch_size=10):
                results.append(batch)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    claimed = [pk for batch in results for pk, _target in batch]
    assert sorted(claimed) == sorted(ticket.pk for ticket in tickets)  # each once, none twice
    assert Notification.objects.count() == 30
