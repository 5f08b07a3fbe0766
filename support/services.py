"""Writes of support: tickets, replies, status, assignment, time spent, satisfaction answers.

Each function is one transaction and leaves a trace twice: on the ticket's own history
(TicketEvent) and on the contact's timeline (an Activity of kind "ticket", ref "support.ticket:<id>").
Functions that change a ticket lock its row first, so two agents answering at once set the
first response once and two status clicks never both apply.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import ActivityKind, Contact, Direction
from contacts.normalise import clean_text
from contacts.services import activity_log, notify
from support.models import (
    TRANSITIONS,
    Channel,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)
from support.sla import due_times

TICKET_EDIT_FIELDS = {"subject", "description", "channel", "priority"}
REPLY_KINDS = {TicketEvent.Kind.REPLY, TicketEvent.Kind.CUSTOMER, TicketEvent.Kind.NOTE}
COMMENT_MAX_LENGTH = 2000


def ticket_ref(ticket: Ticket) -> str:
    return f"support.ticket:{ticket.pk}"


def ticket_timeline_log(ticket: Ticket, *, by, summary: str, body: str = "", at=None, direction: str = "") -> None:
    """An item about the ticket on its contact's timeline (and its company's)."""
    activity_log(
        kind=ActivityKind.TICKET,
        contact=ticket.contact,
        by=by,
        summary=summary,
        body=body,
        at=at,
        direction=direction,
        ref=ticket_ref(ticket),
    )


def _lock(ticket: Ticket) -> None:
    """Lock the ticket's row until the transaction ends and load its current values."""
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update())


def _number(ticket: Ticket) -> dict:
    return {"number": ticket.pk, "subject": ticket.subject}


def _missed_at(*, done_at, due, flagged, now) -> datetime.datetime | None:
    """A target's breach flag after its due time changed (a new priority).

    Not done and newly overdue stays unflagged: the breach job flags it and tells the assignee."""
    if due is None:
        return None
    if done_at is not None:
        return due if done_at > due else None
    if due > now:
        return None
    return due if flagged else None


def _notify_assignee(ticket: Ticket, *, by, event: TicketEvent) -> None:
    assignee = ticket.assignee
    if assignee is None or assignee == by or not assignee.is_active:
        return
    with translation.override(assignee.language or settings.LANGUAGE_CODE):
        text = _("Ticket #%(number)s is yours: %(subject)s") % _number(ticket)
    notify(user=assignee, text=text, key=f"ticket-assigned:{ticket.pk}:{event.pk}", url=ticket.get_absolute_url())


@transaction.atomic
def ticket_create(
    *,
    by,
    contact: Contact,
    subject: str,
    description: str = "",
    channel: str = Channel.EMAIL,
    priority: str = Priority.NORMAL,
    assignee=None,
    at: datetime.datetime | None = None,
) -> Ticket:
    """Open a ticket; its due times come from the SLA policy of its priority, counted from `at`."""
    at = at or timezone.now()
    subject = clean_text(subject)[:200]
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the ticket is about.")})
    first_response_due, resolution_due = due_times(priority=priority, start=at)
    ticket = Ticket(
        contact=contact,
        subject=subject,
        description=clean_text(description, multiline=True),
        channel=channel,
        priority=priority,
        assignee=assignee,
        created_by=by,
        created_at=at,
        updated_at=at,
        first_response_due_at=first_response_due,
        resolution_due_at=resolution_due,
    )
    ticket.full_clean()
    ticket.save()
    event = TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.CREATED, at=at, by=by, body=ticket.description, to_value=priority
    )
    ticket_timeline_log(
        ticket,
        by=by,
        summary=_("Ticket #%(number)s opened: %(subject)s") % _number(ticket),
        body=ticket.description,
        at=at,
        direction=Direction.INBOUND,
    )
    _notify_assignee(ticket, by=by, event=event)
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, by, **fields) -> dict:
    """Change a ticket's subject, description, channel or priority; returns {field: (old, new)}.

    A new priority brings the due times of its policy, counted from the ticket's creation."""
    unknown = set(fields) - TICKET_EDIT_FIELDS
    if unknown:
        raise ValueError(f"not ticket fields: {sorted(unknown)}")
    _lock(ticket)
    if "subject" in fields:
        fields["subject"] = clean_text(fields["subject"])[:200]
        if not fields["subject"]:
            raise ValidationError({"subject": _("Say in a few words what the ticket is about.")})
    if "description" in fields:
        fields["description"] = clean_text(fields["description"], multiline=True)
    changes = {}
    for field, value in fields.items():
        old = getattr(ticket, field)
        if old != value:
            changes[field] = (old, value)
            setattr(ticket, field, value)
    if not changes:
        return changes
    now = timezone.now()
    update_fields = [*changes, "updated_at"]
    ticket.updated_at = now
    if "priority" in changes:
        old, new = changes["priority"]
        first_response_due, resolution_due = due_times(priority=new, start=ticket.created_at)
        ticket.first_response_breached_at = _missed_at(
            done_at=ticket.first_response_at,
            due=first_response_due,
            flagged=ticket.first_response_breached_at is not None,
            now=now,
        )
        ticket.resolution_breached_at = _missed_at(
            done_at=ticket.resolved_at,
            due=resolution_due,
            flagged=ticket.resolution_breached_at is not None,
            now=now,
        )
        ticket.first_response_due_at, ticket.resolution_due_at = first_response_due, resolution_due
        update_fields += [
            "first_response_due_at",
            "resolution_due_at",
            "first_response_breached_at",
            "resolution_breached_at",
        ]
    ticket.full_clean()
    ticket.save(update_fields=update_fields)
    if "priority" in changes:
        old, new = changes["priority"]
        TicketEvent.objects.create(
            ticket=ticket, kind=TicketEvent.Kind.PRIORITY, at=now, by=by, from_value=old, to_value=new
        )
        ticket_timeline_log(
            ticket,
            by=by,
            summary=_("Ticket #%(number)s: priority %(from)s → %(to)s")
            % {"number": ticket.pk, "from": Priority(old).label, "to": Priority(new).label},
            at=now,
        )
    return changes


def _first_response(ticket: Ticket, at: datetime.datetime) -> list[str]:
    """Mark the first response (once); a late one is flagged as missed at its due time."""
    if ticket.first_response_at is not None:
        return []
    ticket.first_response_at = at
    fields = ["first_response_at"]
    due = ticket.first_response_due_at
    if due is not None and at > due and ticket.first_response_breached_at is None:
        ticket.first_response_breached_at = due
        fields.append("first_response_breached_at")
    return fields


def _status_event(ticket: Ticket, *, by, to: str, at: datetime.datetime) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, at=at, by=by, from_value=ticket.status, to_value=to
    )


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, by, body: str, kind: str = TicketEvent.Kind.REPLY, at: datetime.datetime | None = None
) -> TicketEvent:
    """Record a reply to the customer, a message from them, or an internal note.

    The first reply is the first response; it also opens a new ticket. A message from the
    customer reopens a ticket that was waiting for them."""
    if kind not in REPLY_KINDS:
        raise ValueError(f"not a reply kind: {kind}")
    body = clean_text(body, multiline=True)
    if not body:
        raise ValidationError({"body": _("Write the message.")})
    _lock(ticket)
    if ticket.status == Status.CLOSED and kind != TicketEvent.Kind.NOTE:
        raise ValidationError(_("This ticket is closed; open a new one for a new request."))
    at = at or timezone.now()
    event = TicketEvent.objects.create(ticket=ticket, kind=kind, at=at, by=by, body=body)
    update_fields = ["updated_at"]
    ticket.updated_at = timezone.now()
    if kind == TicketEvent.Kind.REPLY:
        update_fields += _first_response(ticket, at)
    if (kind == TicketEvent.Kind.REPLY and ticket.status == Status.NEW) or (
        kind == TicketEvent.Kind.CUSTOMER and ticket.status == Status.PENDING
    ):
        _status_event(ticket, by=by, to=Status.OPEN, at=at)
        ticket.status = Status.OPEN
        update_fields.append("status")
    ticket.save(update_fields=update_fields)
    summaries = {
        TicketEvent.Kind.REPLY: _("Reply on ticket #%(number)s: %(subject)s"),
        TicketEvent.Kind.CUSTOMER: _("Customer wrote on ticket #%(number)s: %(subject)s"),
        TicketEvent.Kind.NOTE: _("Note on ticket #%(number)s: %(subject)s"),
    }
    directions = {TicketEvent.Kind.REPLY: Direction.OUTBOUND, TicketEvent.Kind.CUSTOMER: Direction.INBOUND}
    ticket_timeline_log(
        ticket,
        by=by,
        summary=summaries[kind] % _number(ticket),
        body=body,
        at=at,
        direction=directions.get(kind, Direction.NONE),
    )
    return event


@transaction.atomic
def ticket_set_status(
    *,
    ticket: Ticket,
    by,
    to: str,
    at: datetime.datetime | None = None,
    request_satisfaction: bool = True,
    link_base: str = "",
) -> bool:
    """Move a ticket along TRANSITIONS; False when it already has that status.

    Resolving counts as the first response if there was none. A resolved ticket's contact is
    asked for their satisfaction by email (on commit, through Celery; `link_base` is the
    site's address for the link); reopening clears the resolution."""
    if to not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    _lock(ticket)
    current = Status(ticket.status)
    if to == current:
        return False
    if to not in TRANSITIONS[current]:
        raise ValidationError(
            {
                "status": _("A ticket that is “%(from)s” cannot become “%(to)s”.")
                % {"from": current.label, "to": Status(to).label}
            }
        )
    at = at or timezone.now()
    update_fields = ["status", "updated_at"]
    if to == Status.RESOLVED:
        ticket.resolved_at = at
        update_fields += ["resolved_at", *_first_response(ticket, at)]
        due = ticket.resolution_due_at
        if due is not None and at > due and ticket.resolution_breached_at is None:
            ticket.resolution_breached_at = due
            update_fields.append("resolution_breached_at")
    elif to == Status.CLOSED:
        ticket.closed_at = at
        update_fields.append("closed_at")
    elif current == Status.RESOLVED:
        ticket.resolved_at = None
        update_fields.append("resolved_at")
        if ticket.satisfaction_answered_at is None:
            # Not answered yet: the next resolution asks again, with a new link.
            ticket.satisfaction_requested_at = None
            update_fields.append("satisfaction_requested_at")
    _status_event(ticket, by=by, to=to, at=at)
    ticket.status = to
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=update_fields)
    ticket_timeline_log(
        ticket,
        by=by,
        summary=_("Ticket #%(number)s: %(from)s → %(to)s")
        % {"number": ticket.pk, "from": current.label, "to": Status(to).label},
        at=at,
    )
    if (
        to == Status.RESOLVED
        and request_satisfaction
        and ticket.satisfaction_answered_at is None
        and ticket.satisfaction_requested_at is None
    ):
        from support.tasks import satisfaction_request_task

        ticket_id = ticket.pk
        transaction.on_commit(lambda: satisfaction_request_task.delay(ticket_id, link_base))
    return True


@transaction.atomic
def ticket_assign(*, ticket: Ticket, by, assignee) -> bool:
    """Give a ticket to someone (or to nobody); they get a notice. False when nothing changed."""
    _lock(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return False
    now = timezone.now()
    old = ticket.assignee
    ticket.assignee = assignee
    ticket.updated_at = now
    ticket.save(update_fields=["assignee", "updated_at"])
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        at=now,
        by=by,
        from_value=old.username if old else "",
        to_value=assignee.username if assignee else "",
    )
    if assignee is None:
        summary = _("Ticket #%(number)s is unassigned") % _number(ticket)
    else:
        summary = _("Ticket #%(number)s assigned to %(user)s") % {"number": ticket.pk, "user": assignee}
    ticket_timeline_log(ticket, by=by, summary=summary, at=now)
    _notify_assignee(ticket, by=by, event=event)
    return True


@transaction.atomic
def time_entry_add(
    *, ticket: Ticket, by, minutes: int, note: str = "", at: datetime.datetime | None = None, user=None
) -> TimeEntry:
    """Record minutes spent on a ticket (by `user`, else by whoever records them)."""
    entry = TimeEntry(
        ticket=ticket,
        user=user or by,
        minutes=minutes,
        note=clean_text(note)[:300],
        at=at or timezone.now(),
    )
    entry.full_clean()
    entry.save()
    ticket_timeline_log(
        ticket,
        by=entry.user,
        summary=_("%(minutes)d min on ticket #%(number)s: %(subject)s") % {"minutes": minutes, **_number(ticket)},
        body=entry.note,
        at=entry.at,
    )
    return entry


@transaction.atomic
def satisfaction_record(
    *, ticket: Ticket, score: int, comment: str = "", nonce: str | None = None, at: datetime.datetime | None = None
) -> bool:
    """Store the customer's answer (1-5 and a comment) once; False when it was answered already.

    With a `nonce` (from the link) it must be the ticket's current one. The claim is one
    conditional UPDATE, so two submissions of one link at once store one answer."""
    if score not in range(1, 6):
        raise ValidationError({"score": _("Choose a score from 1 to 5.")})
    comment = clean_text(comment, multiline=True)[:COMMENT_MAX_LENGTH]
    at = at or timezone.now()
    claim = Ticket.objects.filter(pk=ticket.pk, satisfaction_answered_at__isnull=True)
    if nonce is not None:
        if not nonce:
            return False
        claim = claim.filter(satisfaction_nonce=nonce)
    if not claim.update(satisfaction=score, satisfaction_comment=comment, satisfaction_answered_at=at):
        return False
    ticket.refresh_from_db()
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.SATISFACTION, at=at, body=comment, to_value=str(score)
    )
    ticket_timeline_log(
        ticket,
        by=None,
        summary=_("Satisfaction with ticket #%(number)s: %(score)d of 5") % {"number": ticket.pk, "score": score},
        body=comment,
        at=at,
        direction=Direction.INBOUND,
    )
    return True
