"""Reads for the dashboards."""

from django.db.models import Count, Q

from contacts.models import Company, Contact, Phase
from crm.access import visible_users
from crm.models import Team, User


def team_overview(*, user) -> list[User]:
    """The users whose work `user` sees, each with their contacts per phase."""
    per_phase = {f"n_{value}": Count("contacts", filter=Q(contacts__phase=value)) for value in Phase.values}
    return list(
        visible_users(user)
        .annotate(n_contacts=Count("contacts"), **per_phase)
        .order_by("first_name", "last_name", "username")
    )


def dashboard_counts(*, user) -> dict[str, int]:
    counts = {
        "contacts": Contact.objects.visible_to(user).count(),
        "companies": Company.objects.visible_to(user).count(),
    }
    if user.is_crm_admin:
        counts["users"] = User.objects.filter(is_active=True).count()
        counts["teams"] = Team.objects.count()
    return counts
