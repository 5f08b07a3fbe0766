"""Writes to the client database. Views, imports, merges, commands and tasks all call these.

Each function is one transaction, keyword-only, and leaves an attributable trace: a
FieldChange per changed field, a PhaseChange per lifecycle move, a timeline Activity.
"""

import datetime
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts import sql
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
    CustomField,
    FieldChange,
    Notification,
    Phase,
    PhaseChange,
    Referral,
    SocialAccount,
    Source,
    Tag,
    Task,
    TaskStatus,
)
from contacts.normalise import clean_text, gstin_is_valid, normalise_email, phone_or_error
from contacts.selectors_work import reassign_summary

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
# What a row of contacts_create may hold besides CONTACT_FIELDS.
NEW_CONTACT_KEYS = {"phase", "import_key", "email", "phone", "emails", "phones", "tags"}
TAG_LENGTH = 50


def _clean_value(key: str, value: str) -> str:
    if key in MULTILINE_FIELDS:
        # Browsers send textarea lines with \r\n, files come with either: stored with \n.
        return clean_text(value.replace("\r\n", "\n").replace("\r", "\n"), multiline=True)
    return clean_text(value)


def clean_fields(fields: dict) -> dict:
    """Values as stored: text in NFC without control characters, on one line except in multi-line
    fields (address); values that are not text as they are."""
    return {key: _clean_value(key, value) if isinstance(value, str) else value for key, value in fields.items()}


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


def tag_names(tags: Iterable[str]) -> list[str]:
    """Tag names as stored (clean, at most TAG_LENGTH characters), each once, in the order given."""
    return list(dict.fromkeys(clean_text(name)[:TAG_LENGTH] for name in tags if clean_text(name)))


def _tag_ids(names: Iterable[str]) -> dict[str, int]:
    """The ids of tags by name, creating the missing ones."""
    names = sorted(set(names))
    if not names:
        return {}
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def contact_tags_add(*, pairs: Iterable[tuple[int, str]]) -> None:
    """Tag contacts, given as (contact id, tag name) pairs; missing tags are created, pairs already
    there are kept. Three statements whatever the number of pairs."""
    pairs = [(contact_id, clean_text(name)[:TAG_LENGTH]) for contact_id, name in pairs if clean_text(name)]
    if not pairs:
        return
    ids = _tag_ids(name for _contact_id, name in pairs)
    through = Contact.tags.through
    through.objects.bulk_create(
        [through(contact_id=contact_id, tag_id=ids[name]) for contact_id, name in pairs], ignore_conflicts=True
    )


def _set_tags(obj, tags: Iterable[str] | None) -> None:
    if tags is None:
        return
    names = sorted(set(tag_names(tags)))
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    obj.tags.set(Tag.objects.filter(name__in=names))


# Lead assignment -----------------------------------------------------------------------


def _choice_key(text: str) -> str:
    # "Walk-in", "walk_in" and "WALK IN" are the same choice to the people who type them.
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


@functools.cache
def _source_codes() -> dict[str, str]:
    table = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in Source.choices:
                table.setdefault(_choice_key(str(label)), code)
    table.update({_choice_key(code): code for code in Source.values})
    return table


def source_code(text: str) -> str | None:
    """The stored code of a lead source typed as its code or as its label in any language the CRM
    speaks ("Walk-in", "walk_in" -> "walk_in"); None when it names no source."""
    return _source_codes().get(_choice_key(text or ""))


def _rule_key(match: str, text: str) -> str:
    """What a rule's value and a lead's value are compared as: a source by its code, the rest
    without regard to case."""
    if match == AssignmentRule.Match.SOURCE:
        return source_code(text) or (text or "").casefold()
    return (text or "").casefold()


def _industries_of(leads: Sequence[tuple[dict, Company | None]]) -> dict[int, str]:
    ids = {company.pk for _fields, company in leads if company is not None}
    if not ids:
        return {}
    return dict(Company.objects.filter(pk__in=ids, industry__isnull=False).values_list("pk", "industry__name"))


def lead_owners(*, leads: Sequence[tuple[dict, Company | None]]) -> list:
    """The owner the first matching active assignment rule gives each new lead, given as (fields,
    company), or None where no rule matches: the same owners as for the leads created one after the
    other. Queries do not grow with the number of leads."""
    rules = list(AssignmentRule.objects.filter(active=True).select_related("user", "team")) if leads else []
    if not rules:
        return [None] * len(leads)
    rule_keys = {rule.pk: _rule_key(rule.match, rule.value) for rule in rules}
    industries = _industries_of(leads) if any(rule.match == AssignmentRule.Match.INDUSTRY for rule in rules) else {}
    members: dict[int, list] = {}
    counters: dict[int, int] = {}
    turns: Counter = Counter()
    owners = []
    for fields, company in leads:
        values = {
            AssignmentRule.Match.STATE: fields.get("state", ""),
            AssignmentRule.Match.CITY: fields.get("city", ""),
            AssignmentRule.Match.SOURCE: fields.get("source", ""),
            AssignmentRule.Match.INDUSTRY: industries.get(company.pk, "") if company is not None else "",
        }
        owner = None
        for rule in rules:
            matches = (
                rule.match == AssignmentRule.Match.ANY
                or _rule_key(rule.match, values[rule.match]) == rule_keys[rule.pk]
            )
            if not matches:
                continue
            if rule.strategy == AssignmentRule.Strategy.USER:
                if rule.user.is_active:
                    owner = rule.user
                    break
                continue
            if rule.pk not in members:
                members[rule.pk] = list(rule.team.members.filter(is_active=True).order_by("id"))
            team = members[rule.pk]
            if not team:
                continue
            if rule.pk not in counters:
                # Read under a row lock (held to the end of the transaction), so two leads or two
                # imports at the same moment get the turns one after the other.
                counters[rule.pk] = (
                    AssignmentRule.objects.select_for_update().values_list("counter", flat=True).get(pk=rule.pk)
                )
            owner = team[(counters[rule.pk] + turns[rule.pk]) % len(team)]
            turns[rule.pk] += 1
            break
        owners.append(owner)
    for pk, count in turns.items():
        AssignmentRule.objects.filter(pk=pk).update(counter=F("counter") + count)
    return owners


def lead_owner(*, fields: dict, company: Company | None = None):
    """The owner the first matching active assignment rule gives a new lead, or None."""
    return lead_owners(leads=[(fields, company)])[0]


# Contacts ------------------------------------------------------------------------------


def _channels(row: dict, one: str, many: str) -> list[str]:
    return [*([row[one]] if row.get(one) else []), *row.get(many, ())]


@transaction.atomic
def contacts_create(
    *,
    rows: Sequence[dict],
    by,
    via: str = "form",
    at: datetime.datetime | None = None,
    channels_normalised: bool = False,
) -> list[Contact]:
    """Create contacts in one set, as the form creates one and an import a batch: a few statements
    whatever the number of rows.

    A row holds values of CONTACT_FIELDS and may hold "phase", "import_key", "email"/"emails",
    "phone"/"phones" (the first is the primary) and "tags". Emails are stored lower-cased and phones
    in E.164 (callers that normalised them already say `channels_normalised`); the display name is
    made of the names when not given; a row without an owner gets one from the assignment rules,
    else `by`. Each contact gets its emails, phones and tags, its first phase (PhaseChange) and its
    "created" line in the history (FieldChange). Raises ValidationError for a row that does not fit,
    and then nothing is created."""
    now = at or timezone.now()
    contacts, channels, tags = [], [], []
    for row in rows:
        unknown = set(row) - set(CONTACT_FIELDS) - NEW_CONTACT_KEYS
        if unknown:
            raise ValueError(f"not contact fields: {sorted(unknown)}")
        fields = clean_fields({key: value for key, value in row.items() if key in CONTACT_FIELDS})
        fields["display_name"] = _display_name(fields)
        emails, phones = _channels(row, "email", "emails"), _channels(row, "phone", "phones")
        if not channels_normalised:
            emails, phones = _normalise_emails(emails), _normalise_phones(phones)
        if row.get("phase"):
            fields["phase"] = row["phase"]
        contacts.append(
            Contact(
                **fields,
                import_key=row.get("import_key", ""),
                email=emails[0] if emails else "",
                phone=phones[0] if phones else "",
                created_at=now,
                updated_at=now,
                last_activity_at=now,
                phase_changed_at=now,
            )
        )
        channels.append((emails, phones))
        tags.append(tag_names(row.get("tags") or ()))
    unowned = [contact for contact in contacts if contact.owner_id is None]
    ruled = lead_owners(leads=[({"state": c.state, "city": c.city, "source": c.source}, c.company) for c in unowned])
    for contact, owner in zip(unowned, ruled, strict=True):
        contact.owner = owner or by
        if contact.owner is None:
            raise ValidationError({"owner": _("A contact needs an owner.")})
    for contact in contacts:
        # Owner and company are instances already; the import key's uniqueness is the database's.
        contact.clean_fields(exclude=["owner", "company"])
    # By COPY: the ORM's INSERT of instances costs more than all the rest of an import batch.
    sql.copy_instances(contacts)
    new = list(zip(contacts, channels, tags, strict=True))
    sql.copy_rows(
        ContactEmail,
        ["contact_id", "email", "is_primary"],
        ((contact.pk, email, n == 0) for contact, (emails, _p), _t in new for n, email in enumerate(emails)),
    )
    sql.copy_rows(
        ContactPhone,
        ["contact_id", "number", "is_primary"],
        ((contact.pk, phone, n == 0) for contact, (_e, phones), _t in new for n, phone in enumerate(phones)),
    )
    tag_ids = _tag_ids(name for names in tags for name in names)
    sql.copy_rows(
        Contact.tags.through,
        ["contact_id", "tag_id"],
        ((contact.pk, tag_ids[name]) for contact, _c, names in new for name in names),
    )
    by_id, reason = (by.pk if by is not None else None), _("Created")
    sql.copy_rows(
        PhaseChange,
        ["contact_id", "from_phase", "to_phase", "at", "by_id", "reason"],
        ((contact.pk, "", contact.phase, now, by_id, reason) for contact in contacts),
    )
    sql.copy_rows(
        FieldChange,
        ["record_type", "record_id", "field", "new_value", "changed_by_id", "via", "changed_at"],
        (("contact", contact.pk, "created", contact.display_name, by_id, via, now) for contact in contacts),
    )
    return contacts


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
    """Create one contact: contacts_create of one row (the form and an import write the same rows)."""
    row = {**fields, "owner": owner, "emails": list(emails), "phones": list(phones), "tags": tags}
    return contacts_create(rows=[row], by=by, via=via, at=at)[0]


@transaction.atomic
def contact_update(*, contact: Contact, by, via: str = "form", tags: Iterable[str] | None = None, **fields) -> dict:
    """Change fields of a contact; returns {field: (old, new)} of what really changed."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    fields = clean_fields(fields)
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
    fields = clean_fields(fields)
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
    fields = clean_fields(fields)
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


TASK_EDIT_FIELDS = {"title", "notes", "due_at", "remind_at", "assignee"}


def reminder_key(task_id: int) -> str:
    """The key of a task's reminder notice (one per task and assignee; contacts.reminders)."""
    return f"task-reminder:{task_id}"


@transaction.atomic
def task_update(*, task: Task, by, **fields) -> dict:
    """Change a task; a new reminder time (or a new assignee) re-arms its reminder. Returns the changes."""
    unknown = set(fields) - TASK_EDIT_FIELDS
    if unknown:
        raise ValueError(f"not task fields: {sorted(unknown)}")
    if "title" in fields:
        fields["title"] = clean_text(fields["title"])[:200]
    if "notes" in fields:
        fields["notes"] = clean_text(fields["notes"], multiline=True)
    if "remind_at" in fields and fields["remind_at"] is None:
        fields["remind_at"] = fields.get("due_at", task.due_at)
    changes = {}
    for field, value in fields.items():
        old = getattr(task, field)
        if old != value:
            changes[field] = (old, value)
            setattr(task, field, value)
    if not changes:
        return changes
    task.full_clean()
    update_fields = list(changes)
    if {"remind_at", "assignee"} & set(changes) and task.status == TaskStatus.OPEN:
        task.reminder_sent_at = task.reminder_emailed_at = None
        update_fields += ["reminder_sent_at", "reminder_emailed_at"]
        # The notice of the earlier reminder goes, so the new one can be given under the same key.
        Notification.objects.filter(key=reminder_key(task.pk)).delete()
    task.save(update_fields=update_fields)
    return changes


# Notifications -------------------------------------------------------------------------


def notify(*, user, text: str, key: str, url: str = "") -> bool:
    """An in-app notice, at most once per key and user; returns whether it is new."""
    _notice, created = Notification.objects.get_or_create(
        user=user, key=key, defaults={"text": clean_text(text)[:300], "url": url}
    )
    return created


def notification_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notices (the given ones, or all) as read; returns how many changed."""
    notices = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=ids)
    return notices.update(read_at=timezone.now())


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


@transaction.atomic
def records_hand_over(*, from_user, to_user, by, deactivate: bool = False) -> str:
    """Reassign everything of one user to another (and deactivate the one who leaves, if asked);
    the new owner gets a notice. Returns the summary line."""
    summary = owner_reassign(from_user=from_user, to_user=to_user, by=by)
    if deactivate and from_user.is_active:
        from_user.is_active = False
        from_user.save(update_fields=["is_active"])
    text = reassign_summary(summary, to_user)
    notify(
        user=to_user,
        text=_("You took over the records of %(user)s: %(summary)s") % {"user": from_user, "summary": text},
        key=f"reassign:{from_user.pk}:{timezone.now().isoformat()}",
        url=reverse("contacts:contact_list") + f"?owner={to_user.pk}",
    )
    return text


# Record forms --------------------------------------------------------------------------


def _social_text(accounts: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{SocialAccount.Platform(platform).label}: {handle}" for platform, handle in accounts)


@transaction.atomic
def contact_set_social_accounts(
    *, contact: Contact, by, accounts: Iterable[tuple[str, str]], via: str = "form"
) -> bool:
    """Replace a contact's social accounts, given as (platform, handle or URL); True if they changed."""
    new = []
    for platform, handle in accounts:
        if platform not in SocialAccount.Platform.values:
            raise ValidationError({"social_accounts": _("Choose the platform of each social account from the list.")})
        handle = clean_text(handle)[:300]
        if handle and (platform, handle) not in new:
            new.append((platform, handle))
    old = list(contact.social_accounts.order_by("id").values_list("platform", "handle"))
    if new == old:
        return False
    contact.social_accounts.all().delete()
    SocialAccount.objects.bulk_create(
        SocialAccount(contact=contact, platform=platform, handle=handle) for platform, handle in new
    )
    Contact.objects.filter(pk=contact.pk).update(updated_at=timezone.now())
    _record_changes(
        record_type="contact",
        record_id=contact.pk,
        changes={"social_accounts": (_social_text(old), _social_text(new))},
        by=by,
        via=via,
    )
    return True


def custom_values_clean(values: dict, *, current: dict | None = None) -> dict:
    """Custom field values checked against their definitions, as Contact.custom keeps them: a number
    as a JSON number, a date as an ISO date, a choice as one of its options (or the value it already
    had), text as clean text. None (or "") means the value is removed."""
    current = current or {}
    definitions = {field.key: field for field in CustomField.objects.filter(key__in=list(values))}
    cleaned = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise ValidationError({f"custom_{key}": _("There is no custom field “%(key)s”.") % {"key": key}})
        if value is None or value == "":
            cleaned[key] = None
            continue
        fits = True
        if definition.kind == CustomField.Kind.NUMBER:
            fits = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        elif definition.kind == CustomField.Kind.DATE:
            try:
                value = datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                fits = False
        elif definition.kind == CustomField.Kind.CHOICE:
            options = [*(definition.choices or []), *([current[key]] if key in current else [])]
            value = next((option for option in options if str(option) == str(value)), None)
            fits = value is not None
        else:
            value = clean_text(value)[:500]
        if not fits:
            raise ValidationError(
                {f"custom_{key}": _("This value does not fit the field “%(field)s”.") % {"field": definition.label}}
            )
        cleaned[key] = value
    return cleaned


@transaction.atomic
def contact_set_custom(*, contact: Contact, by, values: dict, via: str = "form") -> dict:
    """Set custom field values (None removes one); each changed field is recorded on its own."""
    custom = dict(contact.custom or {})
    changes = {}
    for key, value in custom_values_clean(values, current=custom).items():
        old = custom.get(key)
        if value is None:
            if key in custom:
                del custom[key]
                changes[f"custom:{key}"] = (old, "")
        elif old != value:
            custom[key] = value
            changes[f"custom:{key}"] = (old, value)
    if changes:
        contact.custom = custom
        contact.updated_at = timezone.now()
        contact.save(update_fields=["custom", "updated_at"])
        _record_changes(record_type="contact", record_id=contact.pk, changes=changes, by=by, via=via)
    return changes


@transaction.atomic
def contact_save(
    *,
    by,
    fields: dict,
    contact: Contact | None = None,
    owner=None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    tags: Iterable[str] | None = None,
    social_accounts: Iterable[tuple[str, str]] = (),
    custom: dict | None = None,
    via: str = "form",
) -> Contact:
    """The contact form's save: create (no `contact`) or edit a contact with its emails, phones, tags,
    social accounts and custom fields. All of it is saved, or nothing when a ValidationError is raised."""
    custom = custom or {}
    if contact is None:
        values = {key: value for key, value in custom_values_clean(custom).items() if value is not None}
        contact = contact_create(
            by=by, owner=owner, emails=emails, phones=phones, tags=tags, via=via, custom=values, **fields
        )
    else:
        contact_update(contact=contact, by=by, via=via, tags=tags, **fields, **({"owner": owner} if owner else {}))
        contact_set_channels(contact=contact, by=by, emails=emails, phones=phones, via=via)
        contact_set_custom(contact=contact, by=by, values=custom, via=via)
    contact_set_social_accounts(contact=contact, by=by, accounts=social_accounts, via=via)
    return contact


@transaction.atomic
def company_save(
    *,
    by,
    fields: dict,
    company: Company | None = None,
    owner=None,
    tags: Iterable[str] | None = None,
    via: str = "form",
) -> Company:
    """The company form's save: create (no `company`) or edit a company; a change of tags is recorded."""
    if company is None:
        return company_create(by=by, owner=owner, tags=tags, via=via, **fields)
    company_update(company=company, by=by, via=via, **fields, **({"owner": owner} if owner else {}))
    if tags is not None:
        before = sorted(company.tags.values_list("name", flat=True))
        _set_tags(company, tags)
        after = sorted(company.tags.values_list("name", flat=True))
        if before != after:
            _record_changes(
                record_type="company",
                record_id=company.pk,
                changes={"tags": (", ".join(before), ", ".join(after))},
                by=by,
                via=via,
            )
    return company


# Bulk actions on lists -----------------------------------------------------------------
# The rows ticked on a list page. Only the contacts the acting user may see are touched; other
# ids are ignored. Each action is one transaction and works in sets, not row by row (except the
# phase change, which must write each contact's history and timeline through phase_change).


def _bulk_targets(*, by, ids: Iterable[int]):
    return Contact.objects.visible_to(by).filter(pk__in=list(ids))


@transaction.atomic
def contact_bulk_assign(*, by, ids: Iterable[int], owner) -> int:
    """Give the selected contacts to `owner`, who must be a user `by` may see; returns how many changed hands."""
    from django.contrib.auth import get_user_model

    from crm.access import visible_users

    if owner is None or not visible_users(by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an owner from the list.")})
    rows = list(
        _bulk_targets(by=by, ids=ids).exclude(owner=owner).select_for_update().order_by("pk").values_list("pk", "owner")
    )
    if not rows:
        return 0
    previous = {user.pk: str(user) for user in get_user_model().objects.filter(pk__in={old for _pk, old in rows})}
    now = timezone.now()
    Contact.objects.filter(pk__in=[pk for pk, _old in rows]).update(owner=owner, updated_at=now)
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="contact",
            record_id=pk,
            field="owner",
            old_value=previous.get(old, ""),
            new_value=str(owner),
            changed_by=by,
            changed_at=now,
            via="bulk",
        )
        for pk, old in rows
    )
    return len(rows)


@transaction.atomic
def contact_bulk_tag(*, by, ids: Iterable[int], tag: str, add: bool = True) -> int:
    """Add a tag to (or remove it from) the selected contacts; returns how many changed."""
    name = clean_text(tag)[:50]
    if not name:
        raise ValidationError({"tag": _("Type the tag.")})
    through = Contact.tags.through
    targets = list(_bulk_targets(by=by, ids=ids).select_for_update().order_by("pk").values_list("pk", flat=True))
    if add:
        Tag.objects.bulk_create([Tag(name=name)], ignore_conflicts=True)
        the_tag = Tag.objects.get(name=name)
    else:
        the_tag = Tag.objects.filter(name=name).first()
        if the_tag is None:
            raise ValidationError({"tag": _("There is no tag “%(name)s”.") % {"name": name}})
    tagged = set(through.objects.filter(tag=the_tag, contact_id__in=targets).values_list("contact_id", flat=True))
    changing = sorted(set(targets) - tagged) if add else sorted(tagged)
    if not changing:
        return 0
    before: dict[int, list[str]] = {pk: [] for pk in changing}
    for pk, tag_name in through.objects.filter(contact_id__in=changing).values_list("contact_id", "tag__name"):
        before[pk].append(tag_name)
    if add:
        through.objects.bulk_create([through(contact_id=pk, tag=the_tag) for pk in changing], ignore_conflicts=True)
    else:
        through.objects.filter(tag=the_tag, contact_id__in=changing).delete()
    now = timezone.now()
    Contact.objects.filter(pk__in=changing).update(updated_at=now)
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type="contact",
            record_id=pk,
            field="tags",
            old_value=", ".join(sorted(names)),
            new_value=", ".join(sorted([*names, name] if add else [n for n in names if n != name])),
            changed_by=by,
            changed_at=now,
            via="bulk",
        )
        for pk, names in before.items()
    )
    return len(changing)


@transaction.atomic
def contact_bulk_phase(*, by, ids: Iterable[int], phase: str, reason: str) -> int:
    """Move the selected contacts to `phase`, each through phase_change (history and timeline);
    returns how many moved."""
    if phase not in Phase.values:
        raise ValidationError({"phase": _("Unknown phase.")})
    if not clean_text(reason):
        raise ValidationError({"reason": _("Give a reason for the phase change.")})
    moved = 0
    for contact in _bulk_targets(by=by, ids=ids).exclude(phase=phase).only("pk").order_by("pk"):
        moved += phase_change(contact=contact, to=phase, by=by, reason=reason)
    return moved


# Saved views of lists ------------------------------------------------------------------


@transaction.atomic
def saved_view_save(*, user, list_name: str, name: str, query: str):
    """Save (or, under the same name, replace) a user's view of a list; returns (view, created)."""
    from contacts.models import SavedView

    view = SavedView.objects.filter(user=user, list_name=list_name, name=clean_text(name)[:100]).first()
    created = view is None
    if created:
        view = SavedView(user=user, list_name=list_name, name=clean_text(name)[:100])
    view.query = query
    view.full_clean()
    view.save()
    return view, created


@transaction.atomic
def saved_view_delete(*, view) -> None:
    view.delete()
