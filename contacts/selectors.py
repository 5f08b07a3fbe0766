"""Reads of the client database; every one starts from what the user may see."""

import re

from django.db.models import Count, Q, QuerySet

from contacts.models import Company, Contact, Phase, SavedView
from contacts.normalise import normalise_phone
from contacts.paging import sorts
from crm.access import visible_owner_ids
from crm.models import Team, User

# The sorts of the lists; each has an index on (field, id) (Contact.Meta / Company.Meta).
CONTACT_SORTS = sorts(name="display_name", activity="last_activity_at", created="created_at")
COMPANY_SORTS = sorts(name="name", activity="last_activity_at")
_OWNER_COLUMNS = ("owner__id", "owner__username", "owner__first_name", "owner__last_name")


def contact_list(*, user) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("owner", "company")


def company_list(*, user) -> QuerySet[Company]:
    return Company.objects.visible_to(user).select_related("owner")


def contact_list_rows(*, user) -> QuerySet[Contact]:
    """The contacts of the list page: only the columns it shows, tags in one more query."""
    return (
        Contact.objects.visible_to(user, listed=True)
        .select_related("owner", "company")
        .only(
            "id",
            "display_name",
            "email",
            "phone",
            "city",
            "phase",
            "last_activity_at",
            "created_at",
            "company__id",
            "company__name",
            *_OWNER_COLUMNS,
        )
        .prefetch_related("tags")
    )


def company_list_rows(*, user) -> QuerySet[Company]:
    return (
        company_list(user=user)
        .select_related("industry")
        .only(
            "id", "name", "domain", "city", "state", "size_band", "last_activity_at", "industry__name", *_OWNER_COLUMNS
        )
    )


def saved_views_of(*, user, list_name: str) -> QuerySet[SavedView]:
    """A user's own saved views of one list; nobody else's are ever listed."""
    return SavedView.objects.filter(user=user, list_name=list_name).order_by("name", "id")


def teams_visible_to(user) -> QuerySet[Team]:
    """Teams whose members' records the user may see: all for an admin, the teams a manager
    manages, and the sharing teams a rep belongs to."""
    teams = Team.objects.order_by("name")
    if visible_owner_ids(user) is None:
        return teams
    return teams.filter(Q(manager=user) | Q(members=user, shares_records=True)).distinct()


def team_owner_ids(team: Team) -> QuerySet:
    """Ids of the team's members and manager: the owners of "the team's" records."""
    return User.objects.filter(Q(teams=team) | Q(managed_teams=team)).values("pk")


# A search matching more companies than this is too vague to list all their people.
COMPANY_MATCHES = 500


def contact_search(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Contacts whose name, email, phone or company matches `text` (any script, any phone format)."""
    text = text.strip()
    if not text:
        return queryset
    condition = Q(display_name__search_contains=text) | Q(email__trigram_contains=text)
    # Companies first, by their own trigram index; their ids then join the other conditions as
    # one more index scan (an OR across the join would make PostgreSQL read every contact).
    company_ids = list(company_search(Company.objects.all(), text).values_list("id", flat=True)[:COMPANY_MATCHES])
    if company_ids:
        condition |= Q(company_id__in=company_ids)
    if re.fullmatch(r"[\d\s()+.\-]{5,}", text):
        phone = normalise_phone(text)
        if phone:
            condition |= Q(phone=phone)
    return queryset.filter(condition)


def company_search(queryset: QuerySet[Company], text: str) -> QuerySet[Company]:
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(name__search_contains=text) | Q(domain__trigram_contains=text))


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
