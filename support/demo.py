"""Demo data of support: tickets of the demo customers, worked through the real services.

Only customers get tickets, dated after they first bought (their first move into retention, or
their creation when there is none) and, for churned customers, before they lapsed. Older
tickets were answered, timed, resolved and mostly rated; the most recent are still in the
queue, some past their due times (the breach job flags those on the first minute of `make run`).
"""

import datetime
import random

from django.utils import timezone

from contacts.models import Contact, Phase, PhaseChange
from support.models import Channel, Priority, SLAPolicy, Status, TicketEvent
from support.services import satisfaction_record, ticket_create, ticket_reply, ticket_set_status, time_entry_add

SUBJECTS = [
    ("Invoice shows the wrong GSTIN", "Please correct the GSTIN on invoice and send it again."),
    ("Delivery is late", "The order was promised for Monday and has not arrived."),
    ("Product arrived damaged", "The box was crushed and the front panel is cracked."),
    ("Refund not received", "I returned the item two weeks ago; no refund yet."),
    ("Cannot log in to the order portal", "The OTP never arrives on my phone."),
    ("Warranty claim", "The charger stopped working after a month."),
    ("Wrong size delivered", "I ordered the large one and got the small one."),
    ("Need a duplicate invoice", "Our accounts team lost the original."),
    ("Installation appointment", "When can your technician come to install it?"),
    ("Payment failed but money was debited", "UPI shows the amount debited, the order shows unpaid."),
    ("बिल में गलत पता", "कृपया बिल पर पता ठीक कर दीजिए।"),
    ("ডেলিভারি এখনও আসেনি", "অর্ডারটি কবে পৌঁছাবে জানাবেন?"),
]
REPLIES = [
    "Thank you for writing; we are looking into it and will call you today.",
    "Sorry for the trouble. We have raised it with the warehouse.",
    "We have corrected it and emailed you the new copy.",
]
CUSTOMER_MESSAGES = ["Any update on this?", "Thanks, that works.", "I have sent the photos on WhatsApp."]
NOTES = ["Checked with accounts: refund batch runs on Friday.", "Courier confirms pickup tomorrow."]
COMMENTS = ["Quick and polite, thank you.", "Took a few days but sorted.", "", "", "Had to call twice."]
PRIORITY_WEIGHTS = [(Priority.LOW, 20), (Priority.NORMAL, 50), (Priority.HIGH, 22), (Priority.URGENT, 8)]
CHANNELS = [Channel.PHONE, Channel.WHATSAPP, Channel.EMAIL, Channel.EMAIL, Channel.WEB, Channel.WALK_IN]
SCORES = [(5, 40), (4, 30), (3, 15), (2, 10), (1, 5)]
CUSTOMER_PHASES = [Phase.RETENTION, Phase.EXTENSION, Phase.CHURNED]


def _customer_windows(contacts: list[Contact], now: datetime.datetime) -> dict[int, tuple]:
    """contact id -> (earliest, latest) time a ticket of theirs can have been opened."""
    first_bought, lapsed = {}, {}
    moves = PhaseChange.objects.filter(contact__in=contacts, to_phase__in=[Phase.RETENTION, Phase.CHURNED])
    for contact_id, to_phase, at in moves.order_by("at").values_list("contact_id", "to_phase", "at"):
        if to_phase == Phase.RETENTION:
            first_bought.setdefault(contact_id, at)
        else:
            lapsed[contact_id] = at
    windows = {}
    for contact in contacts:
        earliest = max(first_bought.get(contact.pk, contact.created_at), now - datetime.timedelta(days=400))
        latest = lapsed.get(contact.pk, now) if contact.phase == Phase.CHURNED else now
        if latest - earliest > datetime.timedelta(days=2):
            windows[contact.pk] = (earliest, latest)
    return windows


def _between(rng: random.Random, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
    return start + datetime.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def _work_one(rng, *, contact, opened_at, now, policies, neglected: bool = False) -> None:
    agent = contact.owner
    subject, description = rng.choice(SUBJECTS)
    priority = rng.choices(*zip(*PRIORITY_WEIGHTS, strict=True))[0]
    ticket = ticket_create(
        by=agent,
        contact=contact,
        subject=subject,
        description=description,
        channel=rng.choice(CHANNELS),
        priority=priority,
        assignee=agent if rng.random() < 0.85 else None,
        at=opened_at,
    )
    policy = policies[priority]
    # Most answers come within the target, some after it (those are the missed ones).
    answered_at = opened_at + datetime.timedelta(minutes=policy.first_response_minutes * rng.uniform(0.1, 1.5))
    if answered_at > now or neglected:
        return
    if rng.random() < 0.3:
        ticket_reply(ticket=ticket, by=agent, kind=TicketEvent.Kind.NOTE, body=rng.choice(NOTES), at=answered_at)
    ticket_reply(ticket=ticket, by=agent, body=rng.choice(REPLIES), at=answered_at)
    for _ in range(rng.choice([1, 1, 2, 3])):
        worked_at = answered_at + datetime.timedelta(minutes=rng.randrange(5, 240))
        if worked_at < now:
            time_entry_add(ticket=ticket, by=agent, minutes=rng.choice([10, 15, 20, 30, 45, 60]), at=worked_at)
    resolved_at = opened_at + datetime.timedelta(minutes=policy.resolution_minutes * rng.uniform(0.2, 1.4))
    if resolved_at > now:
        if rng.random() < 0.4:
            ticket_set_status(ticket=ticket, by=agent, to=Status.PENDING, at=answered_at)
        return
    if rng.random() < 0.4:
        message_at = _between(rng, answered_at, resolved_at)
        ticket_reply(
            ticket=ticket, by=None, kind=TicketEvent.Kind.CUSTOMER, body=rng.choice(CUSTOMER_MESSAGES), at=message_at
        )
    ticket_set_status(ticket=ticket, by=agent, to=Status.RESOLVED, at=resolved_at, request_satisfaction=False)
    rated_at = resolved_at + datetime.timedelta(hours=rng.uniform(1, 48))
    if rng.random() < 0.6 and rated_at < now:
        score = rng.choices(*zip(*SCORES, strict=True))[0]
        satisfaction_record(ticket=ticket, score=score, comment=rng.choice(COMMENTS), at=rated_at)
    closed_at = resolved_at + datetime.timedelta(days=rng.uniform(2, 7))
    if rng.random() < 0.7 and closed_at < now:
        ticket_set_status(ticket=ticket, by=agent, to=Status.CLOSED, at=closed_at)


def tickets_demo(*, rng: random.Random, contact_ids: list[int], per_customer: float = 0.35) -> dict:
    """Tickets for about a third of the demo customers, a few still waiting; returns the count."""
    now = timezone.now()
    customers = list(
        Contact.objects.filter(pk__in=contact_ids, phase__in=CUSTOMER_PHASES).select_related("owner").order_by("id")
    )
    windows = _customer_windows(customers, now)
    policies = {policy.priority: policy for policy in SLAPolicy.objects.all()}
    if len(policies) < len(Priority.values):
        return {"tickets": 0}
    count = 0
    for contact in customers:
        if contact.pk not in windows or rng.random() > per_customer:
            continue
        earliest, latest = windows[contact.pk]
        for _ in range(rng.choice([1, 1, 1, 2])):
            # About a third recent (the live queue, some nobody has answered yet), the rest spread
            # over the customer's time.
            recent = rng.random() < 0.35 and latest == now
            start = max(earliest, now - datetime.timedelta(days=2)) if recent else earliest
            _work_one(
                rng,
                contact=contact,
                opened_at=_between(rng, start, latest),
                now=now,
                policies=policies,
                neglected=recent and rng.random() < 0.3,
            )
            count += 1
    return {"tickets": count}
