"""Reads of the record pages: consent, phase history, referrals and the change history of a record."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Channel,
    Company,
    Consent,
    ConsentEvent,
    Contact,
    CustomField,
    FieldChange,
    PhaseChange,
    Referral,
)
from contacts.paging import TimeCursor, TimePage, newest_first
from crm.access import visible_owner_ids

HISTORY_PAGE_SIZE = 50
CONSENT_HISTORY_LIMIT = 100
PHASE_HISTORY_LIMIT = 50
REFERRAL_LIMIT = 100
# Entries of the history that are not a model field.
EXTRA_LABELS = {
    "created": _("Created"),
    "verified": _("Verified"),
    "merged": _("Merged"),
    "deleted": _("Deleted"),
    "emails": _("Email addresses"),
    "phones": _("Phone numbers"),
    "tags": _("Tags"),
    "social_accounts": _("Social accounts"),
    "custom": _("Custom fields"),
}
RECORD_MODELS = {"contact": Contact, "company": Company}


def contact_record(*, user) -> QuerySet[Contact]:
    """Contacts as their page shows them: company, owner, channels, social accounts and tags in a few queries."""
    return (
        Contact.objects.visible_to(user)
        .select_related("owner", "company")
        .prefetch_related("emails", "phones", "social_accounts", "tags")
    )


def company_record(*, user) -> QuerySet[Company]:
    return Company.objects.visible_to(user).select_related("owner", "industry").prefetch_related("tags")


def consent_overview(*, contact: Contact) -> list[dict]:
    """Each channel with the contact's current consent ("not asked" when never recorded)."""
    current = {consent.channel: consent for consent in Consent.objects.filter(contact=contact)}
    return [{"channel": value, "label": label, "consent": current.get(value)} for value, label in Channel.choices]


def consent_history(*, contact: Contact, limit: int = CONSENT_HISTORY_LIMIT) -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(contact=contact).select_related("recorded_by")[:limit])


def phase_history(*, contact: Contact, limit: int = PHASE_HISTORY_LIMIT) -> list[PhaseChange]:
    return list(PhaseChange.objects.filter(contact=contact).select_related("by")[:limit])


def _listed_and_counted(referrals: QuerySet[Referral], limit: int) -> tuple[list[Referral], int]:
    rows = list(referrals.order_by("-created_at", "-id")[:limit])
    # Counted apart only when the list is cut short: the usual page makes one query.
    return rows, len(rows) if len(rows) < limit else referrals.count()


def referrals_made(*, user, contact: Contact, limit: int = REFERRAL_LIMIT) -> tuple[list[Referral], int]:
    """Whom this contact referred or influences, among the contacts and companies the user may see;
    and how many of them there are."""
    referrals = Referral.objects.filter(referrer=contact)
    owner_ids = visible_owner_ids(user)
    if owner_ids is not None:
        referrals = referrals.filter(
            Q(referred_contact__owner__in=owner_ids) | Q(referred_company__owner__in=owner_ids)
        )
    referrals = referrals.select_related("referred_contact", "referred_company").only(
        "id",
        "note",
        "created_at",
        "referrer_id",
        "referred_contact__id",
        "referred_contact__display_name",
        "referred_company__id",
        "referred_company__name",
    )
    return _listed_and_counted(referrals, limit)


def referred_by(
    *, user, contact: Contact | None = None, company: Company | None = None, limit: int = REFERRAL_LIMIT
) -> tuple[list[Referral], int]:
    """The contacts the user may see who referred (or influence) this contact or company; and how many."""
    if (contact is None) == (company is None):
        raise ValueError("referrals of a contact or of a company")
    referrals = (
        Referral.objects.filter(referred_contact=contact)
        if contact
        else Referral.objects.filter(referred_company=company)
    )
    owner_ids = visible_owner_ids(user)
    if owner_ids is not None:
        referrals = referrals.filter(referrer__owner__in=owner_ids)
    referrals = referrals.select_related("referrer").only(
        "id",
        "note",
        "created_at",
        "referred_contact_id",
        "referred_company_id",
        "referrer__id",
        "referrer__display_name",
        "referrer__is_influencer",
    )
    return _listed_and_counted(referrals, limit)


@dataclass
class HistoryEntry:
    change: FieldChange
    label: str
    old: str
    new: str


def _labels_and_choices(record_type: str, custom_fields: list[CustomField]) -> tuple[dict, dict]:
    model = RECORD_MODELS[record_type]
    labels, choices = dict(EXTRA_LABELS), {}
    for field in model._meta.concrete_fields:
        labels[field.name] = field.verbose_name
        if field.choices:
            choices[field.name] = dict(field.choices)
    for field in custom_fields:
        labels[f"custom:{field.key}"] = field.label
    return labels, choices


def custom_fields_all() -> list[CustomField]:
    """Every custom field, also the retired ones (the history still names them)."""
    return list(CustomField.objects.all())


def change_history(
    *,
    record_type: str,
    record_id: int,
    after: TimeCursor | None = None,
    size: int = HISTORY_PAGE_SIZE,
    custom_fields: list[CustomField] | None = None,
) -> TimePage:
    """Changes of a contact or company, newest first, a page at a time (index fieldchange_record_idx);
    each with a readable label of its field and its values."""
    changes = FieldChange.objects.filter(record_type=record_type, record_id=record_id).select_related("changed_by")
    page = newest_first(changes, time_field="changed_at", after=after, size=size)
    if custom_fields is None:
        custom_fields = custom_fields_all() if record_type == "contact" else []
    labels, choices = _labels_and_choices(record_type, custom_fields)
    entries = []
    for change in page.items:
        values = choices.get(change.field, {})
        entries.append(
            HistoryEntry(
                change=change,
                label=labels.get(change.field, change.field.removeprefix("custom:")),
                old=str(values.get(change.old_value, change.old_value)),
                new=str(values.get(change.new_value, change.new_value)),
            )
        )
    return TimePage(items=entries, next_cursor=page.next_cursor)


def custom_values(*, contact: Contact, custom_fields: list[CustomField]) -> list[tuple[str, object]]:
    """The active custom fields with the contact's value of each (None when empty)."""
    custom = contact.custom or {}
    return [(field.label, custom.get(field.key)) for field in custom_fields if field.active]
