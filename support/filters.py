"""Filters of the ticket queue (django-filter)."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access import visible_users
from support.models import ACTIVE_STATUSES, Priority, Status, Ticket

ACTIVE = "active"
ALL = "all"
STATUS_CHOICES = [(ACTIVE, _("Still to do (new, open, waiting)")), *Status.choices, (ALL, _("All"))]


def assignees(request):
    """Only people whose work the user sees are offered."""
    if request is None:
        return get_user_model().objects.none()
    return visible_users(request.user).order_by("first_name", "last_name", "username")


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, method="by_status", empty_label=None
    )
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    assignee = django_filters.ModelChoiceFilter(
        label=_("Assignee"), queryset=assignees, null_label=_("Nobody yet"), null_value="none"
    )
    breached = django_filters.BooleanFilter(
        label=_("Only missed targets"), method="only_breached", widget=django_filters.widgets.BooleanWidget()
    )

    class Meta:
        model = Ticket
        fields = ["q", "status", "priority", "assignee", "breached"]

    def filter_queryset(self, queryset):
        # No status asked for (the queue's first view): the tickets still to do.
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=ACTIVE_STATUSES)
        return super().filter_queryset(queryset)

    def by_status(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if value == ALL:
            return queryset
        return queryset.filter(status=value)

    def search(self, queryset, name, value):
        text = value.strip()
        if text.startswith("#") and text[1:].isdigit() and len(text) <= 13:
            return queryset.filter(pk=int(text[1:]))  # "#123" is the ticket's number, nothing else
        text = text.lstrip("#")
        if not text:
            return queryset
        condition = Q(subject__icontains=text) | Q(contact__display_name__trigram_contains=text)
        if text.isdigit() and len(text) <= 12:
            condition |= Q(pk=int(text))
        return queryset.filter(condition)

    def only_breached(self, queryset, name, value):
        if value:
            return queryset.filter(is_breached=True)
        return queryset
