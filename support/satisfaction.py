"""The satisfaction link: asked by email after a ticket is resolved, answered once, without signing in.

The link carries the ticket's id and a nonce, signed (django.core.signing, salt SALT) with a
timestamp, and is good for LINK_MAX_AGE. The ticket stores the one nonce that is valid now
(a new request after a reopening replaces it) and, once answered, `satisfaction_answered_at`:
the used marker, set by one conditional UPDATE (services.satisfaction_record), so a link
submitted twice, even at the same moment, stores one answer.
"""

import datetime
import secrets
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Channel as ContactChannel
from contacts.models import Consent, ConsentStatus
from crm.links import absolute_url
from support.models import Status, Ticket

SALT = "support.satisfaction"
LINK_MAX_AGE = datetime.timedelta(days=30)
# Where links point when the request that resolved the ticket gave no address (admin, jobs).


class LinkState(StrEnum):
    VALID = "valid"
    ANSWERED = "answered"
    EXPIRED = "expired"
    INVALID = "invalid"


def link_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "n": ticket.satisfaction_nonce}, salt=SALT)


def link_url(ticket: Ticket, link_base: str = "") -> str:
    return absolute_url(reverse("support:satisfaction", args=[link_token(ticket)]), link_base)


def link_read(token: str) -> tuple[LinkState, Ticket | None, str]:
    """What a link is: (state, its ticket when it has one, the nonce it carries)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        return LinkState.EXPIRED, None, ""
    except signing.BadSignature:
        return LinkState.INVALID, None, ""
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int) or not payload.get("n"):
        return LinkState.INVALID, None, ""
    ticket = Ticket.objects.filter(pk=payload["t"]).first()
    if ticket is None or ticket.satisfaction_nonce != payload["n"]:
        return LinkState.INVALID, None, ""
    if ticket.satisfaction_answered_at is not None:
        return LinkState.ANSWERED, ticket, payload["n"]
    return LinkState.VALID, ticket, payload["n"]


def _email_withdrawn(contact) -> bool:
    return Consent.objects.filter(
        contact=contact, channel=ContactChannel.EMAIL, status=ConsentStatus.WITHDRAWN
    ).exists()


def satisfaction_request_send(*, ticket_id: int, link_base: str = "") -> bool:
    """Email the contact of a resolved ticket its satisfaction link, once; True if it went now.

    Sent inside the transaction that marks the ticket as asked: if SMTP fails, nothing is marked
    and the Celery task retries. No email when the contact has no address or withdrew email consent."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("contact")
            .filter(
                pk=ticket_id,
                status__in=[Status.RESOLVED, Status.CLOSED],
                resolved_at__isnull=False,
                satisfaction_requested_at__isnull=True,
                satisfaction_answered_at__isnull=True,
            )
            .first()
        )
        if ticket is None:
            return False
        contact = ticket.contact
        if not contact.email or _email_withdrawn(contact):
            return False
        ticket.satisfaction_nonce = secrets.token_hex(16)
        ticket.satisfaction_requested_at = timezone.now()
        ticket.save(update_fields=["satisfaction_nonce", "satisfaction_requested_at"])
        context = {
            "ticket": ticket,
            "contact": contact,
            "url": link_url(ticket, link_base),
            "days": LINK_MAX_AGE.days,
        }
        with translation.override(contact.preferred_language or settings.LANGUAGE_CODE):
            subject = render_to_string("support/email/satisfaction_subject.txt", context)
            body = render_to_string("support/email/satisfaction_body.txt", context)
        EmailMessage(
            subject=" ".join(subject.split())[:200],
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[contact.email],
        ).send()
    return True
