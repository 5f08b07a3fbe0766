"""Support: tickets with their SLA due times and breaches, each ticket's own history, the time
spent on them (cost to serve) and the customer's satisfaction answer."""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import OwnedQuerySet, visible_owner_ids

User = settings.AUTH_USER_MODEL


class Channel(models.TextChoices):
    """How the customer reached us."""

    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEB = "web", _("Web form")
    WALK_IN = "walk_in", _("Walk-in")
    SOCIAL = "social", _("Social media")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# The queue puts urgent first among tickets equally due.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Waiting for the customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Tickets still being worked: the SLA clock runs for them (it does not pause while pending).
ACTIVE_STATUSES = [Status.NEW, Status.OPEN, Status.PENDING]

# The moves ticket_set_status allows; closed is final, a resolved ticket can be reopened.
TRANSITIONS = {
    Status.NEW: [Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED],
    Status.OPEN: [Status.PENDING, Status.RESOLVED, Status.CLOSED],
    Status.PENDING: [Status.OPEN, Status.RESOLVED, Status.CLOSED],
    Status.RESOLVED: [Status.OPEN, Status.CLOSED],
    Status.CLOSED: [],
}


class Weekday(models.IntegerChoices):
    """ISO weekday numbers, as datetime.date.isoweekday() gives them."""

    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")
    SUNDAY = 7, _("Sunday")


def monday_to_saturday() -> list[int]:
    return [1, 2, 3, 4, 5, 6]


class SLAPolicy(models.Model):
    """The service targets of one priority; due times are computed from it when a ticket is created."""

    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), help_text=_("e.g. 240 for four hours.")
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes)"), help_text=_("e.g. 4320 for three days.")
    )
    business_hours_only = models.BooleanField(
        _("count business hours only"),
        default=False,
        help_text=_(
            "Off: the targets are calendar time, around the clock. On: only the working hours below count, "
            "in the business's time zone."
        ),
    )
    day_starts_at = models.TimeField(_("working day starts"), default=datetime.time(9, 30))
    day_ends_at = models.TimeField(_("working day ends"), default=datetime.time(18, 30))
    working_days = ArrayField(
        models.PositiveSmallIntegerField(choices=Weekday.choices),
        verbose_name=_("working days"),
        default=monday_to_saturday,
        blank=True,
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["first_response_minutes", "priority"]
        constraints = [
            models.CheckConstraint(condition=Q(first_response_minutes__gt=0), name="slapolicy_response_positive"),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="slapolicy_resolution_after_response",
            ),
            models.CheckConstraint(
                condition=Q(day_ends_at__gt=models.F("day_starts_at")), name="slapolicy_day_ends_after_start"
            ),
        ]

    def __str__(self):
        return str(Priority(self.priority).label)

    def clean(self):
        errors = {}
        if any(day not in Weekday.values for day in self.working_days):
            errors["working_days"] = _("Working days are numbered 1 (Monday) to 7 (Sunday).")
        elif self.business_hours_only and not self.working_days:
            errors["working_days"] = _("Choose at least one working day.")
        if self.day_starts_at and self.day_ends_at and self.day_ends_at <= self.day_starts_at:
            errors["day_ends_at"] = _("The working day must end after it starts.")
        if (
            self.first_response_minutes
            and self.resolution_minutes is not None
            and self.resolution_minutes < self.first_response_minutes
        ):
            errors["resolution_minutes"] = _("Resolution cannot be due before the first response.")
        if errors:
            raise ValidationError(errors)


class TicketQuerySet(OwnedQuerySet):
    """The access rule of tickets (README, "Support"): a ticket is visible to whoever may see its
    contact, and to whoever may see the work of its assignee (the assignee themselves, their
    managers, their teammates in a sharing team)."""

    owner_field = "contact__owner"

    def visible_to(self, user):
        owner_ids = visible_owner_ids(user)
        if owner_ids is None:
            return self
        return self.filter(Q(contact__owner__in=owner_ids) | Q(assignee__in=owner_ids))


class Ticket(models.Model):
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="tickets"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        User,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Computed once from the SLA policy of the priority (again if the priority changes), in UTC.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # The instant a target was missed (its due time), set by the breach job or by a late answer.
    first_response_breached_at = models.DateTimeField(_("first response missed"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution missed"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    satisfaction_answered_at = models.DateTimeField(_("satisfaction answered"), null=True, blank=True)
    satisfaction_requested_at = models.DateTimeField(_("satisfaction asked"), null=True, blank=True)
    # The nonce of the one satisfaction link that is valid now; a new request replaces it.
    satisfaction_nonce = models.CharField(max_length=32, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the Tickets panel of a contact, newest first
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_idx"),
            # the queue filtered by assignee or status
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["status", "priority"], name="ticket_status_priority_idx"),
            # the breach job: active tickets past a due time that are not flagged yet
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_response_breach_idx",
                condition=Q(
                    status__in=ACTIVE_STATUSES,
                    first_response_at__isnull=True,
                    first_response_breached_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_resolution_breach_idx",
                condition=Q(status__in=ACTIVE_STATUSES, resolution_breached_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_to_5",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("support:ticket_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def allowed_statuses(self) -> list[str]:
        return [Status(status) for status in TRANSITIONS[Status(self.status)]]

    def first_response_missed(self, now: datetime.datetime | None = None) -> bool:
        if self.first_response_breached_at is not None:
            return True
        if self.first_response_due_at is None:
            return False
        if self.first_response_at is not None:
            return self.first_response_at > self.first_response_due_at
        return self.is_active and (now or timezone.now()) > self.first_response_due_at

    def resolution_missed(self, now: datetime.datetime | None = None) -> bool:
        if self.resolution_breached_at is not None:
            return True
        if self.resolution_due_at is None:
            return False
        if self.resolved_at is not None:
            return self.resolved_at > self.resolution_due_at
        return self.is_active and (now or timezone.now()) > self.resolution_due_at


class TicketEvent(models.Model):
    """One item of a ticket's own history: replies, notes, status and assignment changes, breaches."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        REPLY = "reply", _("Reply to the customer")
        CUSTOMER = "customer", _("Message from the customer")
        NOTE = "note", _("Internal note")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        PRIORITY = "priority", _("Priority changed")
        BREACH = "breach", _("SLA missed")
        SATISFACTION = "satisfaction", _("Satisfaction")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    from_value = models.CharField(max_length=32, blank=True)
    to_value = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket history")
        ordering = ["at", "id"]
        # the history on the ticket's page, in order
        indexes = [models.Index(fields=["ticket", "at", "id"], name="ticketevent_ticket_idx")]

    def __str__(self):
        return f"#{self.ticket_id} {self.kind}"

    @property
    def change_text(self) -> str:
        """What changed, in words, for the kinds that carry a change rather than a message."""
        labels = {
            self.Kind.STATUS: dict(Status.choices),
            self.Kind.PRIORITY: dict(Priority.choices),
            self.Kind.BREACH: {"first_response": _("First response"), "resolution": _("Resolution")},
        }.get(self.kind)
        if labels is not None:
            new = str(labels.get(self.to_value, self.to_value))
            old = str(labels.get(self.from_value, self.from_value))
            return f"{old} → {new}" if self.from_value else new
        if self.kind == self.Kind.ASSIGNED:
            return self.to_value or str(_("Nobody"))
        if self.kind == self.Kind.SATISFACTION:
            return str(_("%(score)s of 5") % {"score": self.to_value})
        return ""


class TimeEntry(models.Model):
    """Minutes someone spent on a ticket; summed per contact and period, they are the cost to serve."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.PROTECT, related_name="support_time_entries")
    minutes = models.PositiveIntegerField(_("minutes"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, help_text=_("When the work was done."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["at", "id"]
        indexes = [
            # the time entries of a ticket
            models.Index(fields=["ticket", "at"], name="timeentry_ticket_idx"),
            # cost to serve over a period
            models.Index(fields=["at"], name="timeentry_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=24 * 60), name="timeentry_minutes_range"),
        ]

    def __str__(self):
        return f"#{self.ticket_id}: {self.minutes} min"
