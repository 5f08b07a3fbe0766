"""Possible duplicates: finding candidate pairs, the review queue and dismissing a pair."""

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts import sql
from contacts.models import Activity, Contact, ContactEmail, ContactPhone, DuplicateCandidate, DuplicateStatus, Task


@transaction.atomic
def duplicates_find(*, contact_ids: list[int] | None = None) -> dict[str, int]:
    """Put every pair of contacts that look like one person in the review queue.

    With `contact_ids` only pairs involving those contacts are looked for (after a create or an
    import); without, all contacts (the nightly scan). Pairs already queued, dismissed or merged
    are left as they are, so it may run any number of times. Returns the new pairs per rule."""
    if contact_ids is not None:
        contact_ids = sorted({int(pk) for pk in contact_ids})
        if not contact_ids:
            return {"email": 0, "phone": 0, "name": 0}
    elif not sql.duplicates_scan_lock():
        return {"email": 0, "phone": 0, "name": 0, "skipped": 1}
    return {
        "email": sql.duplicates_insert_email_pairs(contact_ids=contact_ids),
        "phone": sql.duplicates_insert_phone_pairs(contact_ids=contact_ids),
        "name": sql.duplicates_insert_name_pairs(contact_ids=contact_ids),
    }


def duplicate_queue(*, user) -> QuerySet[DuplicateCandidate]:
    """Open pairs whose two contacts the user may both see, highest score and newest first."""
    visible = Contact.objects.visible_to(user).values("pk")
    return (
        DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN, first__in=visible, second__in=visible)
        .select_related("first__owner", "first__company", "second__owner", "second__company")
        .order_by("-score", "-found_at", "-id")
    )


def duplicate_pairs(*, user) -> QuerySet[DuplicateCandidate]:
    """Every pair (any status) whose two contacts the user may both see."""
    visible = Contact.objects.visible_to(user).values("pk")
    return DuplicateCandidate.objects.filter(first__in=visible, second__in=visible)


def _count_of(model, field: str) -> Subquery:
    counted = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def contacts_compared(*, user, ids: list[int]) -> list[Contact]:
    """The contacts of a pair as the compare page shows them, in the order of `ids`."""
    contacts = (
        Contact.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("owner", "company")
        .prefetch_related(
            Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "id")),
            Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "id")),
        )
        .annotate(activity_count=_count_of(Activity, "contact"), task_count=_count_of(Task, "contact"))
    )
    by_id = {contact.pk: contact for contact in contacts}
    return [by_id[pk] for pk in ids if pk in by_id]


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, by) -> bool:
    """Mark a pair "not a duplicate" (once); a later scan leaves it dismissed."""
    return bool(
        DuplicateCandidate.objects.filter(pk=candidate.pk, status=DuplicateStatus.OPEN).update(
            status=DuplicateStatus.DISMISSED, resolved_by=by, resolved_at=timezone.now()
        )
    )
