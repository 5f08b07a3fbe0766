"""Ticket display helpers: `{{ minutes|duration }}`, `{{ priority|priority_class }}`, `{{ status|status_class }}`."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()

PRIORITY_CLASSES = {"urgent": "text-bg-danger", "high": "text-bg-warning", "normal": "text-bg-secondary"}
STATUS_CLASSES = {"new": "text-bg-primary", "open": "text-bg-info", "pending": "text-bg-warning"}


@register.filter
def duration(minutes) -> str:
    """Minutes as hours and minutes: 95 -> "1 h 35 min"."""
    try:
        minutes = int(minutes or 0)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}


@register.filter
def priority_class(priority: str) -> str:
    return PRIORITY_CLASSES.get(priority, "text-bg-light")


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "text-bg-light")
