"""Demo data of the client database at work: tags, sources, custom fields, consent, referrals,
a timeline and tasks for every contact, lifecycle moves, edits, a few duplicates and the rules.

Called by crm.demo.seed_demo after the users, companies and contacts exist; everything goes
through the same services the pages use, so the demo shows real history."""

import datetime
import random

from django.utils import timezone

from contacts.duplicates import duplicates_find
from contacts.models import (
    ActivityKind,
    AssignmentRule,
    Channel,
    Company,
    ConsentStatus,
    Contact,
    CustomField,
    Direction,
    Phase,
    Source,
)
from contacts.services import (
    activity_log,
    consent_set,
    contact_create,
    contact_set_social_accounts,
    contact_update,
    notify,
    phase_change,
    referral_add,
    task_create,
)

TAGS = ["VIP", "Wholesale", "Diwali 2025", "Trade fair", "Newsletter", "Credit hold"]
SOURCE_WEIGHTS = [
    (Source.WEB_FORM, 25),
    (Source.REFERRAL, 18),
    (Source.WALK_IN, 15),
    (Source.EVENT, 12),
    (Source.SOCIAL, 12),
    (Source.PHONE, 10),
    (Source.PARTNER, 8),
]
CUSTOM_FIELDS = [
    # key, label, kind, choices
    ("visit_day", "Preferred visit day", CustomField.Kind.CHOICE, ["Monday", "Wednesday", "Friday", "Saturday"]),
    ("annual_budget", "Annual budget (₹)", CustomField.Kind.NUMBER, []),
    ("anniversary", "Business anniversary", CustomField.Kind.DATE, []),
    ("loyalty_card", "Loyalty card number", CustomField.Kind.TEXT, []),
]
CONSENT_WORDING = {
    Channel.EMAIL: "I agree to receive offers and updates by email. I can unsubscribe at any time.",
    Channel.SMS: "I agree to receive order updates and offers by SMS.",
    Channel.WHATSAPP: "I agree to be contacted on WhatsApp about my orders and offers.",
    Channel.PHONE: "I agree to receive calls about my account.",
}
CONSENT_METHODS = ["Web form", "Signed paper form at the store", "Phone call", "WhatsApp opt-in message"]
# kind, direction, summaries, outcomes
INTERACTIONS = [
    (ActivityKind.CALL, Direction.OUTBOUND, ["Follow-up call", "Discussed the quotation", "Checked on delivery"]),
    (ActivityKind.CALL, Direction.INBOUND, ["Asked about prices", "Called about an invoice"]),
    (ActivityKind.MEETING, Direction.NONE, ["Product demo at their office", "Quarterly review"]),
    (ActivityKind.EMAIL, Direction.OUTBOUND, ["Sent the catalogue", "Sent the revised quote"]),
    (ActivityKind.WHATSAPP, Direction.INBOUND, ["Asked for the Diwali offer", "Shared a photo of the order"]),
    (ActivityKind.VISIT, Direction.NONE, ["Visited the store", "Site visit"]),
    (ActivityKind.NOTE, Direction.NONE, ["Prefers calls after 4 pm", "Decision maker is the owner's son"]),
    (ActivityKind.SMS, Direction.OUTBOUND, ["Payment reminder sent"]),
    (ActivityKind.SOCIAL, Direction.INBOUND, ["Commented on our Instagram post"]),
]
OUTCOMES = ["Interested", "Will call back", "Asked for a discount", "Order expected next week", ""]
TASKS = ["Call back about the quote", "Send the new price list", "Visit for the annual review", "Collect GST details"]


def _ago(rng: random.Random, *, days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=rng.randrange(1, days), minutes=rng.randrange(24 * 60))


def seed_client_work(*, rng: random.Random, users: dict, companies: list[Company], contact_ids: list[int]) -> dict:
    """Fill in the working life of the demo client database; returns counts for the summary."""
    contacts = list(Contact.objects.filter(pk__in=contact_ids).select_related("owner", "company").order_by("id"))
    reps = [users["arjun"], users["priya"]]

    for position, (key, label, kind, choices) in enumerate(CUSTOM_FIELDS):
        CustomField.objects.get_or_create(
            key=key, defaults={"label": label, "kind": kind, "choices": choices, "position": position}
        )
    AssignmentRule.objects.get_or_create(
        name="Walk-ins go to Priya",
        defaults={
            "position": 1,
            "match": "source",
            "value": Source.WALK_IN,
            "strategy": "user",
            "user": users["priya"],
        },
    )
    team = users["meera"].managed_teams.first()
    if team is not None:
        AssignmentRule.objects.get_or_create(
            name="Karnataka leads, round-robin",
            defaults={"position": 2, "match": "state", "value": "Karnataka", "strategy": "round_robin", "team": team},
        )

    sources, weights = zip(*SOURCE_WEIGHTS, strict=True)
    activity_count = task_count = 0
    for contact in contacts:
        owner = contact.owner
        custom = {}
        if rng.random() < 0.6:
            custom["visit_day"] = rng.choice(CUSTOM_FIELDS[0][3])
        if contact.company_id and rng.random() < 0.7:
            custom["annual_budget"] = rng.randrange(50, 5000) * 1000
            custom["anniversary"] = datetime.date(rng.randrange(1995, 2022), rng.randrange(1, 13), 15).isoformat()
        if rng.random() < 0.3:
            custom["loyalty_card"] = f"LC{rng.randrange(10**6, 10**7)}"
        tags = rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2]))
        contact_update(
            contact=contact,
            by=owner,
            via="demo",
            source=rng.choices(sources, weights)[0],
            custom=custom,
            preferred_channel=rng.choice([Channel.WHATSAPP, Channel.PHONE, Channel.EMAIL, ""]),
            tags=tags,
        )
        if rng.random() < 0.3:
            handle = contact.email.split("@")[0] if contact.email else f"contact{contact.pk}"
            platforms = rng.sample(["linkedin", "instagram", "facebook", "x"], k=rng.choice([1, 1, 2]))
            contact_set_social_accounts(
                contact=contact, by=owner, via="demo", accounts=[(platform, f"@{handle}") for platform in platforms]
            )
        for channel in (Channel.EMAIL, Channel.WHATSAPP, Channel.SMS):
            if rng.random() < 0.55:
                granted_at = _ago(rng, days=500)
                consent_set(
                    contact=contact,
                    channel=channel,
                    status=ConsentStatus.GRANTED,
                    method=rng.choice(CONSENT_METHODS),
                    wording=CONSENT_WORDING[channel],
                    by=owner,
                    at=granted_at,
                )
                if rng.random() < 0.12:
                    consent_set(
                        contact=contact,
                        channel=channel,
                        status=ConsentStatus.WITHDRAWN,
                        method="Replied STOP",
                        by=owner,
                        at=granted_at + datetime.timedelta(days=rng.randrange(1, 90)),
                    )
        for _n in range(rng.randrange(1, 7)):
            kind, direction, summaries = rng.choice(INTERACTIONS)
            activity_log(
                kind=kind,
                by=owner,
                contact=contact,
                direction=direction,
                summary=rng.choice(summaries),
                outcome=rng.choice(OUTCOMES) if kind != ActivityKind.NOTE else "",
                at=_ago(rng, days=400),
            )
            activity_count += 1
        if contact.phase == Phase.SELECTION and rng.random() < 0.3:
            phase_change(contact=contact, to=Phase.ACQUISITION, by=owner, reason="Asked for a quotation")
        if owner in reps and rng.random() < 0.35:
            due = timezone.now() + datetime.timedelta(days=rng.randrange(-3, 10), hours=rng.randrange(9))
            task_create(by=owner, title=rng.choice(TASKS), due_at=due, contact=contact)
            task_count += 1
        if rng.random() < 0.08:
            contact_update(contact=contact, by=owner, via="form", job_title=rng.choice(["Director", "Owner", "CFO"]))

    # Influencers: a few people who do not buy much but bring others in.
    influencers = rng.sample(contacts, k=min(4, len(contacts)))
    referral_count = 0
    for influencer in influencers:
        contact_update(contact=influencer, by=influencer.owner, via="demo", is_influencer=True)
        for referred in rng.sample(contacts, k=min(4, len(contacts))):
            if referred.pk != influencer.pk:
                referral_add(referrer=influencer, by=influencer.owner, contact=referred, note="Recommended us")
                referral_count += 1
        referral_add(referrer=influencer, by=influencer.owner, company=rng.choice(companies), note="Introduced us")
        referral_count += 1

    # A few duplicates, as they creep in: the same person typed again by another rep.
    for original in rng.sample(contacts, k=min(3, len(contacts))):
        contact_create(
            by=original.owner,
            owner=original.owner,
            given_name=original.given_name,
            family_name=original.family_name,
            email=original.email.upper(),
            city=original.city,
            state=original.state,
            source=Source.PHONE,
        )
    duplicates = duplicates_find()

    for user in users.values():
        notify(
            user=user, text="Welcome to the demo CRM: try My day, the contact list and an import.", key="demo-welcome"
        )
    return {
        "activities": activity_count,
        "tasks": task_count,
        "referrals": referral_count,
        "duplicates": sum(duplicates.values()),
    }
