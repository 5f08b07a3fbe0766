"""Reads of the client database; every one starts from what the user may see."""

import re

from django.db.models import Count, Q, QuerySet

from contacts.models import Company, Contact, Phase
from contacts.normalise import normalise_phone


def contact_list(*, user) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("owner", "company")


def company_list(*, user) -> QuerySet[Company]:
    return Company.objects.visible_to(user).select_related("owner")


def contact_search(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Contacts whose name, email, phone or company matches `text` (any script, any phone format)."""
    text = text.strip()
    if not text:
        return queryset
    condition = Q(display_name__icontains=text) | Q(email__icontains=text) | Q(company__name__icontains=text)
    if re.fullmatch(r"[\d\s()+.\-]{5,}", text):
        phone = normalise_phone(text)
        if phone:
            condition |= Q(phone=phone)
    return queryset.filter(condition)


def company_search(queryset: QuerySet[Company], text: str) -> QuerySet[Company]:
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(name__icontains=text) | Q(domain__icontains=text))


def phase_counts(*, user) -> list[dict]:
    """Visible contacts per phase, every phase listed, in lifecycle order."""
    counts = dict(Contact.objects.visible_to(user).values_list("phase").annotate(n=Count("id")).order_by())
    return [{"phase": value, "label": label, "count": counts.get(value, 0)} for value, label in Phase.choices]


def phase_board(*, user, per_phase: int = 8) -> list[dict]:
    """The lifecycle board: each phase with its count and its most recently updated contacts."""
    visible = contact_list(user=user).only(
        "id",
        "display_name",
        "phase",
        "updated_at",
        "company__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )
    board = []
    for column in phase_counts(user=user):
        recent = list(visible.filter(phase=column["phase"]).order_by("-updated_at", "-id")[:per_phase])
        board.append({**column, "contacts": recent})
    return board
