"""Ticket services: first response, status moves, assignment, time spent, the timeline, cost to serve."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from contacts.models import Activity, ActivityKind, Notification
from contacts.tests.factories import ContactFactory
from crm.tests.factories import UserFactory
from support import selectors
from support.models import Priority, Status, Ticket, TicketEvent
from support.services import (
    satisfaction_record,
    ticket_assign,
    ticket_reply,
    ticket_set_status,
    ticket_update,
    time_entry_add,
)
from support.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def _timeline(ticket) -> list[str]:
    return list(
        Activity.objects.filter(contact=ticket.contact, ref=f"support.ticket:{ticket.pk}")
        .order_by("at", "id")
        .values_list("summary", flat=True)
    )


def test_creating_a_ticket_puts_it_on_the_contacts_timeline_and_its_history():
    ticket = TicketFactory(subject="Invoice missing")
    assert ticket.status == Status.NEW and ticket.first_response_due_at > ticket.created_at
    assert _timeline(ticket) == [f"Ticket #{ticket.pk} opened: Invoice missing"]
    assert Activity.objects.get(ref=f"support.ticket:{ticket.pk}").kind == ActivityKind.TICKET
    assert [event.kind for event in ticket.events.all()] == [TicketEvent.Kind.CREATED]


def test_a_blank_subject_is_refused_and_nothing_is_written():
    contact = ContactFactory()
    with pytest.raises(ValidationError) as error:
        TicketFactory(contact=contact, subject="   ")
    assert "subject" in error.value.message_dict
    assert not Ticket.objects.exists() and not Activity.objects.exists()


def test_the_first_reply_is_the_first_response_and_opens_the_ticket():
    ticket = TicketFactory()
    agent = ticket.contact.owner
    ticket_reply(ticket=ticket, by=agent, body="Looking into it", kind=TicketEvent.Kind.NOTE)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == Status.NEW  # a note is not an answer
    first = ticket_reply(ticket=ticket, by=agent, body="We are on it.")
    ticket_reply(ticket=ticket, by=agent, body="Fixed?")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first.at and ticket.status == Status.OPEN
    assert not ticket.first_response_missed()
    assert _timeline(ticket)[1:] == [
        f"Note on ticket #{ticket.pk}: {ticket.subject}",
        f"Reply on ticket #{ticket.pk}: {ticket.subject}",
        f"Reply on ticket #{ticket.pk}: {ticket.subject}",
    ]


def test_a_late_first_response_is_flagged_as_missed_at_its_due_time():
    ticket = TicketFactory(priority=Priority.URGENT, at=_ago(hours=3))
    ticket_reply(ticket=ticket, by=ticket.contact.owner, body="Sorry for the wait")
    ticket.refresh_from_db()
    assert ticket.first_response_breached_at == ticket.first_response_due_at
    assert ticket.first_response_missed()


@pytest.mark.django_db(transaction=True)
def test_two_agents_answering_at_once_set_the_first_response_once():
    ticket = TicketFactory()
    agents = [UserFactory(), UserFactory()]
    start = threading.Barrier(2)

    def answer(agent):
        try:
            start.wait()
            ticket_reply(ticket=Ticket.objects.get(pk=ticket.pk), by=agent, body=f"Hello from {agent.username}")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ticket.refresh_from_db()
    first_reply = ticket.events.filter(kind=TicketEvent.Kind.REPLY).order_by("at").first()
    assert ticket.first_response_at == first_reply.at
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == 1  # new -> open once


def test_a_message_from_the_customer_reopens_a_ticket_waiting_for_them():
    ticket = TicketFactory()
    agent = ticket.contact.owner
    ticket_set_status(ticket=ticket, by=agent, to=Status.PENDING)
    ticket_reply(ticket=ticket, by=agent, body="Here is the photo", kind=TicketEvent.Kind.CUSTOMER)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.first_response_at is None


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([Status.OPEN, Status.PENDING, Status.OPEN, Status.RESOLVED, Status.CLOSED], Status.OPEN),
        ([Status.RESOLVED], Status.NEW),
        ([Status.CLOSED], Status.RESOLVED),
    ],
)
def test_status_moves_follow_the_allowed_transitions(path, refused):
    ticket = TicketFactory()
    for status in path:
        assert ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=status, request_satisfaction=False)
    with pytest.raises(ValidationError):
        ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=refused)
    ticket.refresh_from_db()
    assert ticket.status == path[-1]
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == len(path)


def test_setting_the_same_status_again_changes_nothing():
    ticket = TicketFactory()
    assert ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.OPEN)
    assert not ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.OPEN)
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == 1


def test_a_closed_ticket_takes_notes_but_no_replies():
    ticket = TicketFactory()
    ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.CLOSED)
    with pytest.raises(ValidationError):
        ticket_reply(ticket=ticket, by=ticket.contact.owner, body="Hello?")
    ticket_reply(ticket=ticket, by=ticket.contact.owner, body="Spam", kind=TicketEvent.Kind.NOTE)
    assert ticket.events.filter(kind=TicketEvent.Kind.NOTE).count() == 1


def test_resolving_late_marks_the_resolution_missed_and_counts_as_a_response(django_capture_on_commit_callbacks):
    ticket = TicketFactory(priority=Priority.URGENT, at=_ago(hours=5))
    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None and ticket.first_response_at == ticket.resolved_at
    assert ticket.resolution_breached_at == ticket.resolution_due_at
    assert ticket.first_response_breached_at == ticket.first_response_due_at
    assert len(callbacks) == 1  # the satisfaction email is queued, on commit


def test_reopening_clears_the_resolution_and_asks_again_next_time(django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    agent = ticket.contact.owner
    ticket_set_status(ticket=ticket, by=agent, to=Status.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(satisfaction_requested_at=timezone.now())
    ticket_set_status(ticket=ticket, by=agent, to=Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.resolved_at is None and ticket.satisfaction_requested_at is None
    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_status(ticket=ticket, by=agent, to=Status.RESOLVED)
    assert len(callbacks) == 1


def test_an_answered_ticket_is_not_asked_again(django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    agent = ticket.contact.owner
    ticket_set_status(ticket=ticket, by=agent, to=Status.RESOLVED, request_satisfaction=False)
    assert satisfaction_record(ticket=ticket, score=4)
    ticket_set_status(ticket=ticket, by=agent, to=Status.OPEN)
    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_status(ticket=ticket, by=agent, to=Status.RESOLVED)
    assert callbacks == []


def test_a_new_priority_brings_its_due_times_counted_from_creation():
    ticket = TicketFactory(priority=Priority.LOW, at=_ago(hours=2))
    ticket_update(ticket=ticket, by=ticket.contact.owner, priority=Priority.URGENT)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == ticket.created_at + datetime.timedelta(hours=1)
    assert ticket.resolution_due_at == ticket.created_at + datetime.timedelta(hours=4)
    assert ticket.first_response_breached_at is None  # overdue now: the breach job flags it and tells
    assert ticket.events.filter(kind=TicketEvent.Kind.PRIORITY, from_value="low", to_value="urgent").exists()
    assert f"Ticket #{ticket.pk}: priority Low → Urgent" in _timeline(ticket)


def test_assigning_notifies_the_new_assignee_but_not_oneself():
    ticket = TicketFactory()
    agent, colleague = ticket.contact.owner, UserFactory()
    assert ticket_assign(ticket=ticket, by=agent, assignee=agent)
    assert not Notification.objects.exists()
    assert ticket_assign(ticket=ticket, by=agent, assignee=colleague)
    assert not ticket_assign(ticket=ticket, by=agent, assignee=colleague)
    notice = Notification.objects.get()
    assert notice.user == colleague and notice.url == ticket.get_absolute_url()
    assert ticket_assign(ticket=ticket, by=agent, assignee=None)
    assert f"Ticket #{ticket.pk} is unassigned" in _timeline(ticket)


def test_time_entries_are_checked_and_go_on_the_timeline():
    ticket = TicketFactory()
    agent = ticket.contact.owner
    entry = time_entry_add(ticket=ticket, by=agent, minutes=25, note="Called back")
    assert entry.user == agent
    assert f"25 min on ticket #{ticket.pk}: {ticket.subject}" in _timeline(ticket)
    for minutes in (0, 24 * 60 + 1):
        with pytest.raises(ValidationError):
            time_entry_add(ticket=ticket, by=agent, minutes=minutes)
    assert ticket.time_entries.count() == 1


def test_cost_to_serve_sums_minutes_per_contact_and_per_business_month(org):
    mine = ContactFactory(owner=org.rep_a1, display_name="Asha")
    other = ContactFactory(owner=org.rep_a1, display_name="Ravi")
    hidden = ContactFactory(owner=org.rep_b1, display_name="Hidden")
    first, second = TicketFactory(contact=mine), TicketFactory(contact=mine)
    # 31 March 20:00 UTC is 1 April 01:30 in Kolkata: it counts for April.
    time_entry_add(ticket=first, by=org.rep_a1, minutes=30, at=datetime.datetime(2026, 3, 31, 20, 0, tzinfo=UTC))
    time_entry_add(ticket=second, by=org.rep_a1, minutes=45, at=datetime.datetime(2026, 4, 2, 10, 0, tzinfo=UTC))
    time_entry_add(ticket=first, by=org.rep_a1, minutes=15, at=datetime.datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
    time_entry_add(
        ticket=TicketFactory(contact=other), by=org.rep_a1, minutes=5, at=datetime.datetime(2026, 4, 3, tzinfo=UTC)
    )
    time_entry_add(
        ticket=TicketFactory(contact=hidden), by=org.rep_b1, minutes=99, at=datetime.datetime(2026, 4, 3, tzinfo=UTC)
    )
    start = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime.datetime(2026, 5, 1, tzinfo=UTC)
    rows = list(selectors.cost_to_serve(user=org.rep_a1, start=start, end=end))
    assert [(row["ticket__contact__display_name"], row["minutes"], row["tickets"]) for row in rows] == [
        ("Asha", 90, 2),
        ("Ravi", 5, 1),
    ]
    months = {
        row["month"].strftime("%Y-%m"): row["minutes"]
        for row in selectors.minutes_per_month(user=org.rep_a1, start=start, end=end)
    }
    assert months == {"2026-03": 15, "2026-04": 80}
    assert sum(row["minutes"] for row in selectors.cost_to_serve(user=org.admin, start=start, end=end)) == 194


def test_a_satisfaction_answer_is_stored_once_and_must_be_1_to_5():
    ticket = TicketFactory()
    with pytest.raises(ValidationError):
        satisfaction_record(ticket=ticket, score=6)
    assert satisfaction_record(ticket=ticket, score=2, comment="Slow")
    assert not satisfaction_record(ticket=ticket, score=5)
    ticket.refresh_from_db()
    assert (ticket.satisfaction, ticket.satisfaction_comment) == (2, "Slow")
    assert f"Satisfaction with ticket #{ticket.pk}: 2 of 5" in _timeline(ticket)


def test_visibility_covers_the_contacts_one_sees_and_the_work_of_assignees_one_sees(org):
    of_rep_a1 = TicketFactory(contact__owner=org.rep_a1)
    assigned_to_a2 = TicketFactory(contact__owner=org.rep_b1, assignee=org.rep_a2)
    of_rep_b2 = TicketFactory(contact__owner=org.rep_b2)

    def visible(user):
        return set(Ticket.objects.visible_to(user).values_list("pk", flat=True))

    assert visible(org.rep_a1) == {of_rep_a1.pk}
    assert visible(org.rep_a2) == {assigned_to_a2.pk}  # not their contact, but their ticket
    assert visible(org.manager_a) == {of_rep_a1.pk, assigned_to_a2.pk}
    assert visible(org.rep_b1) == {assigned_to_a2.pk, of_rep_b2.pk}  # a sharing team
    assert visible(org.admin) == {of_rep_a1.pk, assigned_to_a2.pk, of_rep_b2.pk}
