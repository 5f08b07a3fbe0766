"""Writes to the client database. Views, imports, merges, commands and tasks all call these.

Each function is one transaction, keyword-only, and leaves an attributable trace: a
FieldChange per changed field, a PhaseChange per lifecycle move, a timeline Activity.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    Activity,
    ActivityKind,
    AssignmentRule,
    Company,
    Consent,
    ConsentEvent,
    Contact,
    ContactEmail,
    ContactPhone,
    FieldChange,
    Notification,
    Phase,
    PhaseChange,
    Referral,
    Tag,
    Task,
    TaskStatus,
)
from contacts.normalise import clean_text, gstin_is_valid, normalise_email, phone_or_error

# Fields of a contact whose changes are recorded (and may be set by forms and imports).
CONTACT_FIELDS = [
    "given_name",
    "family_name",
    "display_name",
    "company",
    "job_title",
    "address_line",
    "city",
    "state",
    "postcode",
    "country",
    "customer_type",
    "source",
    "preferred_language",
    "preferred_channel",
    "is_influencer",
    "custom",
    "owner",
]
COMPANY_FIELDS = [
    "name",
    "domain",
    "industry",
    "size_band",
    "gstin",
    "phone",
    "address_line",
    "city",
    "state",
    "postcode",
    "country",
    "owner",
]
MULTILINE_FIELDS = {"address_line"}


def _clean_fields(fields: dict) -> dict:
    return {
        key: clean_text(value, multiline=key in MULTILINE_FIELDS) if isinstance(value, str) else value
        for key, value in fields.items()
    }


def _as_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _record_changes(*, record_type: str, record_id: int, changes: dict, by, via: str) -> None:
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type=record_type,
            record_id=record_id,
            field=field,
            old_value=_as_text(old),
            new_value=_as_text(new),
            changed_by=by,
            via=via,
        )
        for field, (old, new) in changes.items()
    )


def _display_name(fields: dict) -> str:
    name = fields.get("display_name") or " ".join(
        part for part in (fields.get("given_name", ""), fields.get("family_name", "")) if part
    )
    return name


def _normalise_emails(emails: Iterable[str]) -> list[str]:
    result = []
    for raw in emails:
        try:
            email = normalise_email(raw)
        except ValidationError as error:
            raise ValidationError({"email": error.messages}) from None
        if email and email not in result:
            result.append(email)
    return result


def _normalise_phones(phones: Iterable[str]) -> list[str]:
    result = []
    for raw in phones:
        if clean_text(raw):
            try:
                phone = phone_or_error(raw)
            except ValidationError as error:
                raise ValidationError({"phone": error.messages}) from None
            if phone not in result:
                result.append(phone)
    return result


def _set_tags(obj, tags: Iterable[str] | None) -> None:
    if tags is None:
        return
    names = sorted({clean_text(name)[:50] for name in tags if clean_text(name)})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    obj.tags.set(Tag.objects.filter(name__in=names))


# Lead assignment -----------------------------------------------------------------------


def lead_owner(*, fields: dict, company: Company | None = None):
    """The owner the first matching active assignment rule gives a new lead, or None."""
    industry = company.industry.name if company is not None and company.industry_id else ""
    values = {
        AssignmentRule.Match.STATE: fields.get("state", ""),
        AssignmentRule.Match.CITY: fields.get("city", ""),
        AssignmentRule.Match.SOURCE: fields.get("source", ""),
        AssignmentRule.Match.INDUSTRY: industry,
    }
    for rule in AssignmentRule.objects.filter(active=True).select_related("user", "team"):
        if (
            rule.match != AssignmentRule.Match.ANY
            and (values.get(rule.match) or "").casefold() != rule.value.casefold()
        ):
            continue
        if rule.strategy == AssignmentRule.Strategy.USER:
            if rule.user.is_active:
                return rule.user
            continue
        members = list(rule.team.members.filter(is_active=True).order_by("id"))
        if not members:
            continue
        # The counter is bumped under a row lock, so two leads created at once get two members.
        locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        AssignmentRule.objects.filter(pk=rule.pk).update(counter=F("counter") + 1)
        return members[locked.counter % len(members)]
    return None


# Contacts ------------------------------------------------------------------------------


@transaction.atomic
def contact_create(
    *,
    by,
    owner=None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    tags: Iterable[str] | None = None,
    via: str = "form",
    at: datetime.datetime | None = None,
    **fields,
) -> Contact:
    """Create a contact: emails lower-cased, phones in E.164, a display name always set, the owner
    given or chosen by the assignment rules (else the creator); the first phase recorded."""
    fields = _clean_fields(fields)
    fields["display_name"] = _display_name(fields)
    email_list = _normalise_emails([*([fields.pop("email")] if fields.get("email") else []), *emails])
    phone_list = _normalise_phones([*([fields.pop("phone")] if fields.get("phone") else []), *phones])
    fields.pop("email", None)
    fields.pop("phone", None)
    owner = owner or lead_owner(fields=fields, company=fields.get("company")) or by
    if owner is None:
        raise ValidationError({"owner": _("A contact needs an owner.")})
    now = at or timezone.now()
    contact = Contact(
        owner=owner,
        email=email_list[0] if email_list else "",
        phone=phone_list[0] if phone_list else "",
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        phase_changed_at=now,
        **fields,
    )
    contact.full_clean()
    contact.save()
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=contact, email=email, is_primary=n == 0) for n, email in enumerate(email_list)
    )
    ContactPhone.objects.bulk_create(
        ContactPhone(contact=contact, number=phone, is_primary=n == 0) for n, phone in enumerate(phone_list)
    )
    _set_tags(contact, tags)
    PhaseChange.objects.create(
        contact=contact, from_phase="", to_phase=contact.phase, at=now, by=by, reason=_("Created")
    )
    FieldChange.objects.create(
        record_type="contact",
        record_id=contact.pk,
        field="created",
        changed_by=by,
        new_value=contact.display_name,
        via=via,
        changed_at=now,
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by, via: str = "form", tags: Iterable[str] | None = None, **fields) -> dict:
    """Change fields of a contact; returns {field: (old, new)} of what really changed."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    fields = _clean_fields(fields)
    if "display_name" in fields and not fields["display_name"]:
        fields["display_name"] = _display_name(
            {**{f: getattr(contact, f) for f in CONTACT_FIELDS}, **fields, "display_name": ""}
        )
    changes = {}
    for field, value in fields.items():
        old = getattr(contact, field)
        if old != value:
            changes[field] = (old, value)
            setattr(contact, field, value)
    if changes:
        contact.updated_at = timezone.now()
        contact.full_clean()
        contact.save(update_fields=[*changes, "updated_at"])
        _record_changes(record_type="contact", record_id=contact.pk, changes=changes, by=by, via=via)
    if tags is not None:
        before = sorted(contact.tags.values_list("name", flat=True))
        _set_tags(contact, tags)
        after = sorted(contact.tags.values_list("name", flat=True))
        if before != after:
            changes["tags"] = (", ".join(before), ", ".join(after))
            _record_changes(
                record_type="contact", record_id=contact.pk, changes={"tags": changes["tags"]}, by=by, via=via
            )
    return changes


@transaction.atomic
def contact_set_channels(
    *, contact: Contact, by, emails: Iterable[str] | None = None, phones: Iterable[str] | None = None, via: str = "form"
) -> None:
    """Replace a contact's emails and/or phones (the first of each list is the primary one)."""
    changes = {}
    if emails is not None:
        new = _normalise_emails(emails)
        old = list(contact.emails.values_list("email", flat=True))
        if new != old:
            contact.emails.all().delete()
            ContactEmail.objects.bulk_create(
                ContactEmail(contact=contact, email=email, is_primary=n == 0) for n, email in enumerate(new)
            )
            contact.email = new[0] if new else ""
            changes["emails"] = (", ".join(old), ", ".join(new))
    if phones is not None:
        new = _normalise_phones(phones)
        old = list(contact.phones.values_list("number", flat=True))
        if new != old:
            contact.phones.all().delete()
            ContactPhone.objects.bulk_create(
                ContactPhone(contact=contact, number=phone, is_primary=n == 0) for n, phone in enumerate(new)
            )
            contact.phone = new[0] if new else ""
            changes["phones"] = (", ".join(old), ", ".join(new))
    if changes:
        contact.updated_at = timezone.now()
        contact.save(update_fields=["email", "phone", "updated_at"])
        _record_changes(record_type="contact", record_id=contact.pk, changes=changes, by=by, via=via)


@transaction.atomic
def contact_verify(*, contact: Contact, by) -> None:
    """Mark a contact's data as checked with the person today (clears the "stale" flag)."""
    contact.verified_at = timezone.now()
    contact.save(update_fields=["verified_at"])
    FieldChange.objects.create(
        record_type="contact",
        record_id=contact.pk,
        field="verified",
        changed_by=by,
        new_value=str(contact.verified_at.date()),
    )


# Lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def phase_change(
    *, contact: Contact, to: str, by=None, rule: str = "", reason: str = "", at: datetime.datetime | None = None
) -> bool:
    """Move a contact to another lifecycle phase; manual moves (by a user) and automatic ones
    (by a rule) both come here. Returns False when it already is in that phase."""
    if to not in Phase.values:
        raise ValidationError({"phase": _("Unknown phase.")})
    if by is None and not rule:
        raise ValueError("a phase change is made by a user or by a rule")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.phase == to:
        return False
    at = at or timezone.now()
    reason = clean_text(reason)[:500]
    PhaseChange.objects.create(
        contact=contact, from_phase=contact.phase, to_phase=to, at=at, by=by, rule=rule, reason=reason
    )
    summary = _("%(from)s → %(to)s") % {"from": Phase(contact.phase).label, "to": Phase(to).label}
    Activity.objects.create(
        kind=ActivityKind.PHASE, contact=contact, at=at, by=by, summary=summary, body=reason or rule
    )
    Contact.objects.filter(pk=contact.pk).update(phase=to, phase_changed_at=at, updated_at=timezone.now())
    return True


# Timeline ------------------------------------------------------------------------------


@transaction.atomic
def activity_log(
    *,
    kind: str,
    by,
    summary: str,
    contact: Contact | None = None,
    company: Company | None = None,
    body: str = "",
    direction: str = "",
    outcome: str = "",
    at: datetime.datetime | None = None,
    ref: str = "",
) -> Activity:
    """Add an item to the timeline of a contact (and its company) or of a company."""
    if contact is None and company is None:
        raise ValueError("an activity belongs to a contact or a company")
    if company is None and contact is not None:
        company = contact.company
    activity = Activity(
        kind=kind,
        contact=contact,
        company=company,
        at=at or timezone.now(),
        by=by,
        summary=clean_text(summary)[:300],
        body=clean_text(body, multiline=True),
        direction=direction,
        outcome=clean_text(outcome)[:200],
        ref=ref,
    )
    activity.full_clean()
    activity.save()
    if contact is not None:
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=Greatest("last_activity_at", activity.at))
    if company is not None:
        Company.objects.filter(pk=company.pk).update(last_activity_at=Greatest("last_activity_at", activity.at))
    return activity


# Consent -------------------------------------------------------------------------------


@transaction.atomic
def consent_set(
    *,
    contact: Contact,
    channel: str,
    status: str,
    method: str,
    by,
    wording: str = "",
    at: datetime.datetime | None = None,
) -> ConsentEvent:
    """Grant or withdraw consent for one channel; the history keeps every change."""
    at = at or timezone.now()
    event = ConsentEvent(
        contact=contact,
        channel=channel,
        status=status,
        at=at,
        method=clean_text(method)[:100],
        wording=clean_text(wording, multiline=True),
        recorded_by=by,
    )
    event.full_clean()
    event.save()
    Consent.objects.update_or_create(contact=contact, channel=channel, defaults={"status": status, "changed_at": at})
    return event


# Companies -----------------------------------------------------------------------------


def _check_gstin(fields: dict) -> None:
    gstin = fields.get("gstin")
    if gstin:
        fields["gstin"] = gstin = gstin.upper().replace(" ", "")
        if not gstin_is_valid(gstin):
            raise ValidationError({"gstin": _("This is not a valid GSTIN (15 characters, with a check digit).")})


@transaction.atomic
def company_create(
    *,
    by,
    owner=None,
    tags: Iterable[str] | None = None,
    via: str = "form",
    at: datetime.datetime | None = None,
    **fields,
) -> Company:
    fields = _clean_fields(fields)
    _check_gstin(fields)
    if fields.get("phone"):
        fields["phone"] = phone_or_error(fields["phone"])
    now = at or timezone.now()
    company = Company(owner=owner or by, created_at=now, updated_at=now, last_activity_at=now, **fields)
    company.full_clean()
    company.save()
    _set_tags(company, tags)
    FieldChange.objects.create(
        record_type="company",
        record_id=company.pk,
        field="created",
        changed_by=by,
        new_value=company.name,
        via=via,
        changed_at=now,
    )
    return company


@transaction.atomic
def company_update(*, company: Company, by, via: str = "form", tags: Iterable[str] | None = None, **fields) -> dict:
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"not company fields: {sorted(unknown)}")
    fields = _clean_fields(fields)
    _check_gstin(fields)
    if fields.get("phone"):
        fields["phone"] = phone_or_error(fields["phone"])
    changes = {}
    for field, value in fields.items():
        old = getattr(company, field)
        if old != value:
            changes[field] = (old, value)
            setattr(company, field, value)
    if changes:
        company.updated_at = timezone.now()
        company.full_clean()
        company.save(update_fields=[*changes, "updated_at"])
        _record_changes(record_type="company", record_id=company.pk, changes=changes, by=by, via=via)
    if tags is not None:
        _set_tags(company, tags)
    return changes


# Influencers and referrals -------------------------------------------------------------


@transaction.atomic
def referral_add(
    *, referrer: Contact, by, contact: Contact | None = None, company: Company | None = None, note: str = ""
) -> Referral:
    if (contact is None) == (company is None):
        raise ValidationError(_("Choose either a contact or a company."))
    if contact is not None and contact.pk == referrer.pk:
        raise ValidationError(_("A contact cannot refer themselves."))
    referral, _created = Referral.objects.get_or_create(
        referrer=referrer,
        referred_contact=contact,
        referred_company=company,
        defaults={"note": clean_text(note)[:300], "created_by": by},
    )
    return referral


# Tasks ---------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    by,
    title: str,
    due_at: datetime.datetime,
    assignee=None,
    contact: Contact | None = None,
    company: Company | None = None,
    remind_at: datetime.datetime | None = None,
    notes: str = "",
) -> Task:
    """A task with a reminder at its due time unless another time is given."""
    task = Task(
        title=clean_text(title)[:200],
        notes=clean_text(notes, multiline=True),
        due_at=due_at,
        remind_at=remind_at or due_at,
        assignee=assignee or by,
        contact=contact,
        company=company or (contact.company if contact else None),
        created_by=by,
    )
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_complete(*, task: Task, by) -> bool:
    """Mark a task done (once) and put it on the timeline."""
    done = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=timezone.now()
    )
    if done and (task.contact_id or task.company_id):
        activity_log(
            kind=ActivityKind.TASK,
            by=by,
            summary=_("Task done: %(title)s") % {"title": task.title},
            contact=task.contact,
            company=task.company,
        )
    return bool(done)


def notify(*, user, text: str, key: str, url: str = "") -> bool:
    """An in-app notice, at most once per key and user; returns whether it is new."""
    _notice, created = Notification.objects.get_or_create(
        user=user, key=key, defaults={"text": clean_text(text)[:300], "url": url}
    )
    return created


# Owners --------------------------------------------------------------------------------


@transaction.atomic
def owner_reassign(*, from_user, to_user, by) -> dict[str, int]:
    """Everything of one user (a rep who leaves) to another, in one step; history kept per record."""
    if from_user.pk == to_user.pk:
        raise ValidationError(_("Choose a different user to hand the records to."))
    summary = {}
    for record_type, model in (("contact", Contact), ("company", Company)):
        ids = list(model.objects.filter(owner=from_user).values_list("pk", flat=True))
        model.objects.filter(pk__in=ids).update(owner=to_user, updated_at=timezone.now())
        FieldChange.objects.bulk_create(
            FieldChange(
                record_type=record_type,
                record_id=pk,
                field="owner",
                old_value=str(from_user),
                new_value=str(to_user),
                changed_by=by,
                via="reassign",
            )
            for pk in ids
        )
        summary[f"{record_type}_count"] = len(ids)
    summary["task_count"] = Task.objects.filter(assignee=from_user, status=TaskStatus.OPEN).update(assignee=to_user)
    return summary
