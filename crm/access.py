"""The one rule of who sees what: every list, detail, export, search and report asks here.

- an admin sees everything;
- a manager sees the records owned by the members of the teams they manage, and their own;
- a rep sees what they own, and what the other members of a sharing team own.
Records are "owned" through an `owner` foreign key to the user.
"""

from django.db import models
from django.db.models import Q


def visible_owner_ids(user):
    """Ids of the users whose records `user` may see, as a subquery; None means everyone."""
    from crm.models import User

    if not user.is_authenticated or not user.is_active:
        return User.objects.none().values("pk")
    if user.is_crm_admin:
        return None
    team_filter = Q(teams__manager=user) | Q(teams__members=user, teams__shares_records=True)
    return User.objects.filter(Q(pk=user.pk) | team_filter).values("pk")


class OwnedQuerySet(models.QuerySet):
    """QuerySet of a model with an `owner`; `visible_to` applies the access rule."""

    owner_field = "owner"

    def visible_to(self, user, *, listed: bool = False):
        """`listed` reads the owners' ids first (one small query) and filters on the values: the planner
        then knows from its statistics how many rows those owners have, which it cannot know of a
        subquery (a search by a small team then walked the whole name index)."""
        owner_ids = visible_owner_ids(user)
        if owner_ids is None:
            return self
        if listed:
            owner_ids = sorted(set(owner_ids.values_list("pk", flat=True)))
        return self.filter(**{f"{self.owner_field}__in": owner_ids})


def visible_users(user):
    """The users whose work `user` may see (for owner filters and team dashboards)."""
    from crm.models import User

    owner_ids = visible_owner_ids(user)
    users = User.objects.filter(is_active=True)
    return users if owner_ids is None else users.filter(pk__in=owner_ids)
