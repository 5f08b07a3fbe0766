"""Merging contacts that are one person into one record, keeping everything that hangs off them.

Every relation to Contact is re-pointed generically (one UPDATE per foreign key found in
`Contact._meta`), so a model added later with a foreign key to Contact follows on its own. Only
relations bound by a unique constraint need a rule of their own (`SPECIAL_RELATIONS`); a new
one that has none makes `contact_merge` refuse to run rather than lose rows.
"""

import json
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.duplicates import duplicates_find
from contacts.models import (
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
    DuplicateCandidate,
    DuplicateStatus,
    FieldChange,
    MergeRecord,
    Referral,
    SocialAccount,
)

# Relations (model label, field name) with a unique constraint on the contact: merged by hand.
SPECIAL_RELATIONS = {
    ("contacts.contactemail", "contact"),
    ("contacts.contactphone", "contact"),
    ("contacts.socialaccount", "contact"),
    ("contacts.consent", "contact"),
    ("contacts.referral", "referrer"),
    ("contacts.referral", "referred_contact"),
    ("contacts.duplicatecandidate", "first"),
    ("contacts.duplicatecandidate", "second"),
    # The merged records' current loyalty tiers go with them; the nightly recompute gives the kept
    # record its tier from all the orders now on it.
    ("sales.contacttier", "contact"),
}
# Blank fields of the kept record that are filled from the merged ones (first non-blank wins).
FILL_FIELDS = [
    "given_name",
    "family_name",
    "company",
    "job_title",
    "address_line",
    "city",
    "state",
    "postcode",
    "source",
    "preferred_language",
    "preferred_channel",
]


def contact_relations() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) holding a foreign key to Contact, hidden ones (related_name="+") too."""
    return [
        (rel.related_model, rel.field.name)
        for rel in Contact._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
    ]


def _unique_on(model: type[models.Model], field_name: str) -> bool:
    """Whether rows of `model` may clash on `field_name` when re-pointed (a unique rule includes it)."""
    field = model._meta.get_field(field_name)
    if field.unique:
        return True
    if any(field_name in together for together in model._meta.unique_together):
        return True
    return any(
        isinstance(constraint, models.UniqueConstraint) and field_name in (constraint.fields or ())
        for constraint in model._meta.constraints
    )


def merge_plan() -> dict[str, list[tuple[type[models.Model], str]]]:
    """How each relation to Contact is merged: re-pointed ("generic"), by its own rule ("special"),
    as a set union of an auto-created many-to-many table ("union"), or not at all ("unhandled")."""
    plan = {"generic": [], "special": [], "union": [], "unhandled": []}
    for model, field_name in contact_relations():
        if (model._meta.label_lower, field_name) in SPECIAL_RELATIONS:
            plan["special"].append((model, field_name))
        elif model._meta.auto_created:
            plan["union"].append((model, field_name))
        elif _unique_on(model, field_name):
            plan["unhandled"].append((model, field_name))
        else:
            plan["generic"].append((model, field_name))
    return plan


def _snapshot(contact: Contact) -> dict:
    data = {field.attname: field.value_from_object(contact) for field in Contact._meta.concrete_fields}
    data["emails"] = list(contact.emails.order_by("id").values("email", "is_primary"))
    data["phones"] = list(contact.phones.order_by("id").values("number", "kind", "is_primary"))
    data["tags"] = sorted(contact.tags.values_list("name", flat=True))
    data["social_accounts"] = list(contact.social_accounts.order_by("id").values("platform", "handle"))
    data["consents"] = list(contact.consents.order_by("channel").values("channel", "status", "changed_at"))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _move_missing(model, fk: str, keep: Contact, other: Contact, match: list[str], **values) -> int:
    """Re-point the rows of `other` that `keep` does not already have (same `match` values);
    the rest are duplicates and go with the merged record."""
    keep_rows = model._base_manager.filter(**{fk: keep.pk})
    rows = model._base_manager.filter(**{fk: other.pk})
    if len(match) == 1:
        rows = rows.exclude(**{f"{match[0]}__in": keep_rows.values(match[0])})
    else:
        existing = models.Exists(keep_rows.filter(**{name: models.OuterRef(name) for name in match}))
        rows = rows.exclude(existing)
    return rows.update(**{fk: keep.pk}, **values)


def _merge_channels(keep: Contact, others: list[Contact]) -> dict:
    """Emails and phones: all kept, each once; the kept record keeps its primary ones if it has them."""
    changes = {}
    for model, value_field, contact_field, label in (
        (ContactEmail, "email", "email", "emails"),
        (ContactPhone, "number", "phone", "phones"),
    ):
        before = list(
            model.objects.filter(contact=keep).order_by("-is_primary", "id").values_list(value_field, flat=True)
        )
        # the primary of the first merged record that has one, in the order the records were given
        primaries = dict(
            model.objects.filter(contact__in=others, is_primary=True).values_list("contact_id", value_field)
        )
        fallback = next((primaries[other.pk] for other in others if other.pk in primaries), None)
        for other in others:
            _move_missing(model, "contact", keep, other, [value_field], is_primary=False)
        rows = model.objects.filter(contact=keep)
        if not rows.filter(is_primary=True).exists():
            first = rows.filter(**{value_field: fallback}).first() if fallback else None
            first = first or rows.order_by("id").first()
            if first is not None:
                rows.filter(pk=first.pk).update(is_primary=True)
        after = list(rows.order_by("-is_primary", "id").values_list(value_field, flat=True))
        setattr(keep, contact_field, after[0] if after else "")
        if after != before:
            changes[label] = (", ".join(before), ", ".join(after))
    return changes


def _merge_consents(keep: Contact, others: list[Contact]) -> None:
    """One consent per channel: the most recent state wins (its history is all in ConsentEvent)."""
    current = {consent.channel: consent for consent in Consent.objects.filter(contact=keep)}
    for consent in Consent.objects.filter(contact__in=others).order_by("changed_at", "id"):
        mine = current.get(consent.channel)
        if mine is None:
            Consent.objects.filter(pk=consent.pk).update(contact=keep)
            current[consent.channel] = consent
        elif consent.changed_at > mine.changed_at:
            Consent.objects.filter(pk=mine.pk).update(status=consent.status, changed_at=consent.changed_at)
            mine.status, mine.changed_at = consent.status, consent.changed_at


def _merge_referrals(keep: Contact, others: list[Contact]) -> None:
    """Both directions kept; referrals between the merged records (self-referrals now) and ones the
    kept record already has are dropped."""
    group = [keep.pk, *(other.pk for other in others)]
    Referral.objects.filter(referrer__in=group, referred_contact__in=group).delete()
    for other in others:
        made = Referral.objects.filter(referrer=other)
        made.filter(referred_contact__isnull=False).exclude(
            referred_contact__in=Referral.objects.filter(referrer=keep, referred_contact__isnull=False).values(
                "referred_contact"
            )
        ).update(referrer=keep)
        made.filter(referred_company__isnull=False).exclude(
            referred_company__in=Referral.objects.filter(referrer=keep, referred_company__isnull=False).values(
                "referred_company"
            )
        ).update(referrer=keep)
        Referral.objects.filter(referred_contact=other).exclude(
            referrer__in=Referral.objects.filter(referred_contact=keep).values("referrer")
        ).update(referred_contact=keep)


def _merge_union(model, fk: str, keep: Contact, others: list[Contact]) -> None:
    """An auto-created many-to-many table (tags): the union of both sides' rows."""
    match = [
        field.name
        for field in model._meta.concrete_fields
        if field.is_relation and field.name != fk and not field.primary_key
    ]
    for other in others:
        _move_missing(model, fk, keep, other, match)


def _fill_blanks(keep: Contact, others: list[Contact]) -> dict:
    changes = {}
    for field in FILL_FIELDS:
        attname = Contact._meta.get_field(field).attname
        if getattr(keep, attname) in ("", None):
            donor = next((other for other in others if getattr(other, attname) not in ("", None)), None)
            if donor is not None:
                changes[field] = (getattr(keep, field), getattr(donor, field))
                setattr(keep, attname, getattr(donor, attname))
    custom = dict(keep.custom or {})
    for other in others:
        for key, value in (other.custom or {}).items():
            if custom.get(key) in (None, "") and value not in (None, ""):
                custom[key] = value
    if custom != (keep.custom or {}):
        changes["custom"] = (keep.custom, custom)
        keep.custom = custom
    if not keep.is_influencer and any(other.is_influencer for other in others):
        changes["is_influencer"] = (False, True)
        keep.is_influencer = True
    keep.last_activity_at = max([keep.last_activity_at, *(other.last_activity_at for other in others)])
    return changes


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@transaction.atomic
def contact_merge(*, keep: Contact, others: Iterable[Contact], by) -> MergeRecord:
    """Fold `others` into `keep`: every email, phone, social account, consent, timeline item, task,
    phase change, referral, tag, import row and change-history row ends up on `keep`, blank fields
    of `keep` are filled from the others, a MergeRecord keeps a snapshot of them, then they are
    deleted. All or nothing; `by` must be allowed to see every record (Http404 otherwise)."""
    plan = merge_plan()
    if plan["unhandled"]:
        names = ", ".join(f"{model._meta.label}.{field}" for model, field in plan["unhandled"])
        raise ImproperlyConfigured(f"contact_merge has no rule for these unique relations to Contact: {names}")
    other_ids = list(dict.fromkeys(other.pk for other in others if other.pk != keep.pk))
    if not other_ids:
        raise ValidationError(_("Choose at least one other contact to merge into this one."))
    ids = sorted([keep.pk, *other_ids])
    # Locked in id order, so two merges touching the same records wait for each other, never deadlock.
    locked = {
        contact.pk: contact
        for contact in Contact.objects.visible_to(by).select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if len(locked) != len(ids):
        raise Http404(_("No such contact."))
    keep = locked[keep.pk]
    others = [locked[pk] for pk in other_ids]
    now = timezone.now()
    snapshot = {str(other.pk): _snapshot(other) for other in others}

    changes = _merge_channels(keep, others)
    for model, fk in plan["union"]:
        _merge_union(model, fk, keep, others)
    for other in others:
        _move_missing(SocialAccount, "contact", keep, other, ["platform", "handle"])
    _merge_consents(keep, others)
    _merge_referrals(keep, others)
    DuplicateCandidate.objects.filter(
        models.Q(first__in=ids) | models.Q(second__in=ids), status=DuplicateStatus.OPEN
    ).update(status=DuplicateStatus.MERGED, resolved_by=by, resolved_at=now)
    for model, fk in plan["generic"]:
        model._base_manager.filter(**{f"{fk}__in": other_ids}).update(**{fk: keep.pk})
    FieldChange.objects.filter(record_type="contact", record_id__in=other_ids).update(record_id=keep.pk)

    changes.update(_fill_blanks(keep, others))
    keep.updated_at = now
    keep.full_clean()
    keep.save()
    FieldChange.objects.bulk_create(
        [
            *(
                FieldChange(
                    record_type="contact",
                    record_id=keep.pk,
                    field=field,
                    old_value=_as_text(old),
                    new_value=_as_text(new),
                    changed_by=by,
                    changed_at=now,
                    via="merge",
                )
                for field, (old, new) in changes.items()
            ),
            FieldChange(
                record_type="contact",
                record_id=keep.pk,
                field="merged",
                old_value=", ".join(f"#{other.pk} {other.display_name}" for other in others),
                new_value=keep.display_name,
                changed_by=by,
                changed_at=now,
                via="merge",
            ),
        ]
    )
    record = MergeRecord.objects.create(
        kept=keep, kept_id_value=keep.pk, merged_ids=other_ids, snapshot=snapshot, merged_by=by, merged_at=now
    )
    Contact.objects.filter(pk__in=other_ids).delete()
    # The kept record now carries the others' emails and phones: pairs with third records follow.
    duplicates_find(contact_ids=[keep.pk])
    return record
