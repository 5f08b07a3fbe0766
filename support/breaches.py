"""The breach job: flags active tickets past a due time and tells their assignee, once.

Every minute (beat) it reads a batch of candidates per target (partial indexes
ticket_response_breach_idx / ticket_resolution_breach_idx) and claims each with a conditional
UPDATE ("set the flag where it is still null and the target still unmet"); only a claim that
changed one row goes on to write the history, the timeline item and the notice, in the same
transaction. Two runs at once, or a run repeated, therefore flag and notify each breach once:
the second UPDATE waits for the first one's row lock, then no longer matches.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.services import notify
from support.models import ACTIVE_STATUSES, Ticket, TicketEvent
from support.services import ticket_timeline_log

BATCH_SIZE = 500


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    due_field: str
    done_field: str
    flag_field: str

    def unmet(self, now: datetime.datetime) -> dict:
        return {
            "status__in": ACTIVE_STATUSES,
            f"{self.done_field}__isnull": True,
            f"{self.flag_field}__isnull": True,
            f"{self.due_field}__lte": now,
        }


TARGETS = [
    Target(
        "first_response",
        gettext_lazy("first response"),
        "first_response_due_at",
        "first_response_at",
        "first_response_breached_at",
    ),
    Target("resolution", gettext_lazy("resolution"), "resolution_due_at", "resolved_at", "resolution_breached_at"),
]


def _tell(ticket: Ticket, target: Target) -> None:
    user = ticket.assignee if ticket.assignee_id and ticket.assignee.is_active else ticket.contact.owner
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = _("Ticket #%(number)s missed its %(target)s target: %(subject)s") % {
            "number": ticket.pk,
            "target": target.label,
            "subject": ticket.subject,
        }
    due = getattr(ticket, target.due_field)
    notify(
        user=user,
        text=text,
        key=f"ticket-breach:{ticket.pk}:{target.name}:{int(due.timestamp())}",
        url=ticket.get_absolute_url(),
    )


def _flag_one(ticket_id: int, target: Target, now: datetime.datetime) -> bool:
    with transaction.atomic():
        claimed = Ticket.objects.filter(pk=ticket_id, **target.unmet(now)).update(
            **{target.flag_field: F(target.due_field)}
        )
        if not claimed:
            return False
        ticket = Ticket.objects.select_related("contact__owner", "assignee").get(pk=ticket_id)
        due = getattr(ticket, target.due_field)
        TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.BREACH, at=due, to_value=target.name)
        ticket_timeline_log(
            ticket,
            by=None,
            summary=_("Ticket #%(number)s missed its %(target)s target")
            % {"number": ticket.pk, "target": target.label},
            at=due,
        )
        _tell(ticket, target)
    return True


def sla_breaches_flag(*, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> list[tuple[int, str]]:
    """Flag the tickets that have just missed a target; returns (ticket id, target) of each new flag."""
    now = now or timezone.now()
    flagged = []
    for target in TARGETS:
        candidates = list(
            Ticket.objects.filter(**target.unmet(now))
            .order_by(target.due_field, "id")
            .values_list("pk", flat=True)[:batch_size]
        )
        flagged += [(pk, target.name) for pk in candidates if _flag_one(pk, target, now)]
    return flagged
