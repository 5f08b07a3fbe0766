"""Reads of support; every one starts from the tickets the user may see (Ticket.objects.visible_to)."""

import datetime

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Least, TruncMonth
from django.utils import timezone

from contacts.models import Contact
from support.models import ACTIVE_STATUSES, PRIORITY_RANK, Ticket, TicketEvent, TimeEntry
from support.sla import business_zone


def ticket_list(*, user) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user).select_related("contact", "assignee")


def ticket_queue(*, user, now: datetime.datetime | None = None) -> QuerySet[Ticket]:
    """The visible tickets by urgency: breached first, then the nearest due time, then priority.

    `next_due_at` is the due time that matters now (the first response's while there is none,
    then the resolution's; none once resolved); `is_breached` says a target was missed
    (flagged by the job, or overdue this minute, before the job has run)."""
    now = now or timezone.now()
    next_due = Case(
        When(
            status__in=ACTIVE_STATUSES,
            first_response_at__isnull=True,
            then=Least("first_response_due_at", "resolution_due_at"),
        ),
        When(status__in=ACTIVE_STATUSES, then=F("resolution_due_at")),
        default=Value(None),
        output_field=DateTimeField(),
    )
    rank = Case(
        *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANK.items()),
        default=Value(len(PRIORITY_RANK)),
        output_field=IntegerField(),
    )
    return (
        ticket_list(user=user)
        .annotate(next_due_at=next_due, priority_rank=rank)
        .annotate(
            is_breached=Case(
                When(
                    Q(first_response_breached_at__isnull=False)
                    | Q(resolution_breached_at__isnull=False)
                    | Q(next_due_at__lt=now),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("is_breached").desc(), F("next_due_at").asc(nulls_last=True), "priority_rank", "created_at", "id")
    )


def ticket_detail(*, user) -> QuerySet[Ticket]:
    return ticket_list(user=user).select_related("contact__company", "created_by")


def ticket_events(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's history in order (index ticketevent_ticket_idx)."""
    return TicketEvent.objects.filter(ticket=ticket).select_related("by").order_by("at", "id")


def ticket_time_entries(*, ticket: Ticket) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(ticket=ticket).select_related("user").order_by("at", "id")


def contact_visible(*, user, contact_id: int) -> bool:
    """Whether the user may open the contact's page (a ticket may be visible while its contact is not)."""
    return Contact.objects.visible_to(user).filter(pk=contact_id).exists()


def record_tickets(*, user, contact: Contact | None = None, company=None) -> QuerySet[Ticket]:
    """The visible tickets of a contact, or of a company's people: active first, newest first."""
    tickets = ticket_list(user=user)
    tickets = tickets.filter(contact=contact) if contact is not None else tickets.filter(contact__company=company)
    active_first = Case(When(status__in=ACTIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    return tickets.annotate(active_first=active_first).order_by("active_first", "-created_at", "-id")


def record_ticket_summary(*, user, contact: Contact | None = None, company=None) -> dict:
    """Counts, time spent and mean satisfaction of a contact's (or a company's) visible tickets."""
    tickets = ticket_list(user=user)
    tickets = tickets.filter(contact=contact) if contact is not None else tickets.filter(contact__company=company)
    summary = tickets.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status__in=ACTIVE_STATUSES)),
        satisfaction=Avg("satisfaction"),
    )
    summary["minutes"] = (
        TimeEntry.objects.filter(ticket__in=tickets.values("pk")).aggregate(minutes=Sum("minutes"))["minutes"] or 0
    )
    return summary


def cost_to_serve(*, user, start: datetime.datetime, end: datetime.datetime) -> QuerySet:
    """Minutes spent per contact in [start, end), on the tickets the user may see, most first.

    Rows: contact id, contact name, minutes, tickets (index timeentry_at_idx)."""
    return (
        TimeEntry.objects.filter(at__gte=start, at__lt=end, ticket__in=Ticket.objects.visible_to(user).values("pk"))
        .values("ticket__contact", "ticket__contact__display_name")
        .annotate(minutes=Sum("minutes"), tickets=Count("ticket", distinct=True))
        .order_by("-minutes", "ticket__contact")
    )


def minutes_per_month(*, user, start: datetime.datetime, end: datetime.datetime, contact: Contact | None = None):
    """Minutes spent per calendar month of the business (its time zone) in [start, end)."""
    entries = TimeEntry.objects.filter(
        at__gte=start, at__lt=end, ticket__in=Ticket.objects.visible_to(user).values("pk")
    )
    if contact is not None:
        entries = entries.filter(ticket__contact=contact)
    return (
        entries.annotate(month=TruncMonth("at", tzinfo=business_zone()))
        .values("month")
        .annotate(minutes=Sum("minutes"))
        .order_by("month")
    )
