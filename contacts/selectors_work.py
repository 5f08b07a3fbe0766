"""Reads of the daily work: timelines of contacts and companies, tasks, My day, notifications, hand-over summaries."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import Activity, Company, Contact, Notification, Task, TaskStatus
from contacts.paging import TimeCursor, TimePage, newest_first
from crm.access import visible_owner_ids

TIMELINE_PAGE_SIZE = 20
NOTIFICATION_PAGE_SIZE = 30
UPCOMING_LIMIT = 50
DUE_LIMIT = 200


def contact_timeline(
    *, contact: Contact, kind: str = "", after: TimeCursor | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimePage:
    """The contact's timeline (index activity_contact_idx / activity_contact_kind_idx)."""
    items = Activity.objects.filter(contact=contact).select_related("by")
    if kind:
        items = items.filter(kind=kind)
    return newest_first(items, time_field="at", after=after, size=size)


def company_timeline(
    *, user, company: Company, kind: str = "", after: TimeCursor | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimePage:
    """The company's own items and those of its people, leaving out people the user may not see
    (index activity_company_idx)."""
    items = Activity.objects.filter(company=company).select_related("by", "contact")
    owner_ids = visible_owner_ids(user)
    if owner_ids is not None:
        items = items.filter(Q(contact__isnull=True) | Q(contact__owner__in=owner_ids))
    if kind:
        items = items.filter(kind=kind)
    return newest_first(items, time_field="at", after=after, size=size)


def open_tasks_of(*, user, contact: Contact | None = None, company: Company | None = None) -> QuerySet[Task]:
    """The open tasks of a record that the user may see, soonest first."""
    tasks = Task.objects.visible_to(user).filter(status=TaskStatus.OPEN).select_related("assignee")
    if contact is not None:
        tasks = tasks.filter(contact=contact)
    if company is not None:
        tasks = tasks.filter(company=company)
    return tasks.order_by("due_at", "id")


def task_list(*, user) -> QuerySet[Task]:
    return Task.objects.visible_to(user).select_related("assignee", "contact", "company")


def day_bounds(*, day: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Start of the day and of the next in the current (the user's) time zone."""
    day = day or timezone.localdate()
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start, end


def _my_open_tasks(user) -> QuerySet[Task]:
    return Task.objects.filter(assignee=user, status=TaskStatus.OPEN).select_related("contact", "company")


def my_due_tasks(*, user, now: datetime.datetime | None = None) -> dict[str, list[Task]]:
    """The user's open tasks due by the end of today in their time zone: overdue (due time
    passed) and today (due later today), in one query (index task_my_day_idx)."""
    now = now or timezone.now()
    _start, tomorrow = day_bounds(day=timezone.localdate(now))
    due = list(_my_open_tasks(user).filter(due_at__lt=tomorrow).order_by("due_at", "id")[:DUE_LIMIT])
    return {
        "overdue": [task for task in due if task.due_at < now],
        "today": [task for task in due if task.due_at >= now],
    }


def my_day(*, user, now: datetime.datetime | None = None) -> dict[str, list[Task]]:
    """My day: overdue, today, and upcoming (due after today)."""
    now = now or timezone.now()
    _start, tomorrow = day_bounds(day=timezone.localdate(now))
    upcoming = _my_open_tasks(user).filter(due_at__gte=tomorrow).order_by("due_at", "id")[:UPCOMING_LIMIT]
    return {**my_due_tasks(user=user, now=now), "upcoming": list(upcoming)}


def notification_page(*, user, after: TimeCursor | None = None, size: int = NOTIFICATION_PAGE_SIZE) -> TimePage:
    """The user's notices, newest first (index notification_user_idx)."""
    return newest_first(Notification.objects.filter(user=user), time_field="created_at", after=after, size=size)


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def reassign_summary(summary: dict, to_user) -> str:
    """ "12 contacts, 3 companies, 5 open tasks moved to Priya" (of owner_reassign's counts)"""
    parts = [
        ngettext("%(count)d contact", "%(count)d contacts", summary["contact_count"])
        % {"count": summary["contact_count"]},
        ngettext("%(count)d company", "%(count)d companies", summary["company_count"])
        % {"count": summary["company_count"]},
        ngettext("%(count)d open task", "%(count)d open tasks", summary["task_count"])
        % {"count": summary["task_count"]},
    ]
    return _("%(parts)s moved to %(user)s") % {"parts": ", ".join(parts), "user": to_user}
