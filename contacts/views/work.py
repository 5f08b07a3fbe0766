"""Pages of the daily work: the timeline and tasks of a record, My day, notifications, handing over."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from contacts import selectors_work
from contacts.forms_work import ActivityLogForm, ReassignForm, TaskForm, TimelineFilterForm
from contacts.models import Company, Contact, Task
from contacts.paging import TimeCursor
from contacts.services import (
    activity_log,
    notification_mark_read,
    records_hand_over,
    task_complete,
    task_create,
    task_update,
)

SUBJECT_MODELS = {"contact": Contact, "company": Company}


def _subject_of(request, subject: str, pk: int):
    """The contact or company of the URL, if the user may see it (404 otherwise)."""
    return get_object_or_404(SUBJECT_MODELS[subject].objects.visible_to(request.user), pk=pk)


def _next_url(request, default: str) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return next_url
    return default


def _timeline_args(request):
    """(kind, cursor) of the query string; a cursor that is not one raises ValueError."""
    filter_form = TimelineFilterForm(request.GET)
    kind = filter_form.cleaned_data["kind"] if filter_form.is_valid() else ""
    before = request.GET.get("before", "")
    cursor = TimeCursor.parse(before) if before else None
    return filter_form, kind, cursor


def _timeline_page(request, subject: str, record, *, kind: str = "", cursor=None):
    if subject == "contact":
        return selectors_work.contact_timeline(contact=record, kind=kind, after=cursor)
    return selectors_work.company_timeline(user=request.user, company=record, kind=kind, after=cursor)


def _open_tasks(request, subject: str, record):
    return selectors_work.open_tasks_of(user=request.user, **{subject: record})


def _work_context(request, subject: str, record, *, log_form=None, task_form=None) -> dict:
    return {
        "subject": record,
        "subject_type": subject,
        "key": f"{subject}-{record.pk}",
        "work_url": reverse(f"contacts:{subject}_work", args=[record.pk]),
        "timeline_url": reverse(f"contacts:{subject}_timeline", args=[record.pk]),
        "log_url": reverse(f"contacts:{subject}_log", args=[record.pk]),
        "task_add_url": reverse(f"contacts:{subject}_task_add", args=[record.pk]),
        "tasks_url": reverse(f"contacts:{subject}_tasks", args=[record.pk]),
        "log_form": log_form or ActivityLogForm(),
        "task_form": task_form or TaskForm(user=request.user),
        "filter_form": TimelineFilterForm(),
        "page": _timeline_page(request, subject, record),
        "kind": "",
        "tasks": _open_tasks(request, subject, record),
    }


@require_GET
def work(request, subject: str, pk: int):
    """The work panel of a record: log an interaction, add a task, open tasks, the timeline.

    The record's page loads it with htmx; without JavaScript it is a page of its own."""
    record = _subject_of(request, subject, pk)
    context = _work_context(request, subject, record)
    if request.htmx:
        return render(request, "contacts/partials/work_panel.html", context)
    return render(request, "contacts/partials/work_page.html", context)


@require_GET
def timeline(request, subject: str, pk: int):
    """One page of a record's timeline, newest first; "Load more" asks for the page after a cursor."""
    record = _subject_of(request, subject, pk)
    try:
        filter_form, kind, cursor = _timeline_args(request)
    except ValueError:
        return HttpResponseBadRequest(_("This is not a position in the timeline."))
    context = {
        "subject": record,
        "subject_type": subject,
        "key": f"{subject}-{record.pk}",
        "timeline_url": reverse(f"contacts:{subject}_timeline", args=[record.pk]),
        "filter_form": filter_form,
        "kind": kind,
        "page": _timeline_page(request, subject, record, kind=kind, cursor=cursor),
    }
    if request.htmx:
        return render(request, "contacts/partials/timeline.html", context)
    return render(request, "contacts/partials/work_timeline_page.html", context)


@require_GET
def open_tasks(request, subject: str, pk: int):
    record = _subject_of(request, subject, pk)
    context = {"tasks": _open_tasks(request, subject, record), "next": record.get_absolute_url()}
    return render(request, "contacts/partials/work_tasks.html", context)


@require_http_methods(["GET", "POST"])
def log_interaction(request, subject: str, pk: int):
    record = _subject_of(request, subject, pk)
    log_url = reverse(f"contacts:{subject}_log", args=[record.pk])
    if request.method == "GET":
        return render(
            request, "contacts/partials/work_log_form.html", {"log_form": ActivityLogForm(), "log_url": log_url}
        )
    form = ActivityLogForm(request.POST)
    if form.is_valid():
        try:
            activity_log(by=request.user, **{subject: record}, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if form.is_valid():
        if request.htmx:
            response = render(
                request,
                "contacts/partials/work_log_form.html",
                {"log_form": ActivityLogForm(), "log_url": log_url, "saved": True},
            )
            return trigger_client_event(response, "timeline-changed")
        messages.success(request, _("The interaction is on the timeline."))
        return redirect(record)
    if request.htmx:
        return render(request, "contacts/partials/work_log_form.html", {"log_form": form, "log_url": log_url})
    return render(request, "contacts/partials/work_page.html", _work_context(request, subject, record, log_form=form))


@require_http_methods(["GET", "POST"])
def task_add(request, subject: str, pk: int):
    record = _subject_of(request, subject, pk)
    task_add_url = reverse(f"contacts:{subject}_task_add", args=[record.pk])
    if request.method == "GET":
        context = {"task_form": TaskForm(user=request.user), "task_add_url": task_add_url}
        return render(request, "contacts/partials/work_task_form.html", context)
    form = TaskForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            task_create(by=request.user, **{subject: record}, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if form.is_valid():
        if request.htmx:
            context = {"task_form": TaskForm(user=request.user), "task_add_url": task_add_url, "saved": True}
            response = render(request, "contacts/partials/work_task_form.html", context)
            return trigger_client_event(response, "tasks-changed")
        messages.success(request, _("The task is added."))
        return redirect(record)
    if request.htmx:
        return render(
            request, "contacts/partials/work_task_form.html", {"task_form": form, "task_add_url": task_add_url}
        )
    return render(request, "contacts/partials/work_page.html", _work_context(request, subject, record, task_form=form))


@require_POST
def task_done(request, pk: int):
    """Complete a task in one click (from a record's panel, My day or the dashboard)."""
    task = get_object_or_404(Task.objects.visible_to(request.user).select_related("contact", "company"), pk=pk)
    done = task_complete(task=task, by=request.user)
    if request.htmx:
        # The task's row goes; the timeline of its record shows "Task done".
        return trigger_client_event(HttpResponse(""), "timeline-changed")
    if done:
        messages.success(request, _("Done: %(title)s") % {"title": task.title})
    return redirect(_next_url(request, reverse("contacts:my_day")))


@require_http_methods(["GET", "POST"])
def task_edit(request, pk: int):
    task = get_object_or_404(selectors_work.task_list(user=request.user), pk=pk)
    default_next = task.contact.get_absolute_url() if task.contact_id else reverse("contacts:my_day")
    if request.method == "POST":
        form = TaskForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                task_update(task=task, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
        if form.is_valid():
            messages.success(request, _("The task is saved."))
            return redirect(_next_url(request, default_next))
    else:
        form = TaskForm(
            user=request.user,
            initial={
                "title": task.title,
                "due_at": task.due_at,
                "assignee": task.assignee_id,
                "remind_at": task.remind_at,
                "notes": task.notes,
            },
        )
    context = {"task": task, "form": form, "next": _next_url(request, default_next)}
    return render(request, "contacts/partials/work_task_edit.html", context)


@require_GET
def my_day(request):
    """The user's open tasks: overdue, due today, upcoming."""
    return render(request, "contacts/my_day.html", {"day": selectors_work.my_day(user=request.user)})


@require_GET
def notifications(request):
    before = request.GET.get("before", "")
    try:
        cursor = TimeCursor.parse(before) if before else None
    except ValueError:
        return HttpResponseBadRequest(_("This is not a position in the list."))
    page = selectors_work.notification_page(user=request.user, after=cursor)
    template = "contacts/partials/work_notification_items.html" if request.htmx else "contacts/notifications.html"
    return render(request, template, {"page": page})


@require_POST
def notifications_read(request):
    """Mark one notice (``id``) or all of the user's notices as read."""
    notice_id = request.POST.get("id", "")
    if notice_id:
        if not notice_id.isdigit():
            return HttpResponseBadRequest(_("Unknown notification."))
        notice = get_object_or_404(request.user.notifications.all(), pk=int(notice_id))
        notification_mark_read(user=request.user, ids=[notice.pk])
        if request.htmx:
            notice.refresh_from_db()
            return render(request, "contacts/partials/work_notification_item.html", {"notice": notice})
    else:
        count = notification_mark_read(user=request.user)
        messages.success(
            request,
            ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
            % {"count": count},
        )
    return redirect("contacts:notifications")


@require_http_methods(["GET", "POST"])
def reassign(request):
    """Managers and admins: hand everything of a user (a rep who leaves) to another."""
    if not (request.user.is_crm_admin or request.user.is_manager):
        raise Http404
    form = ReassignForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            text = records_hand_over(
                from_user=form.cleaned_data["from_user"], to_user=form.cleaned_data["to_user"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, text)
            return redirect("contacts:reassign")
    return render(request, "contacts/reassign.html", {"form": form})


def _subject_paths(prefix: str, subject: str) -> list:
    kwargs = {"subject": subject}
    return [
        path(f"{prefix}/<int:pk>/work/", work, kwargs, name=f"{subject}_work"),
        path(f"{prefix}/<int:pk>/timeline/", timeline, kwargs, name=f"{subject}_timeline"),
        path(f"{prefix}/<int:pk>/log/", log_interaction, kwargs, name=f"{subject}_log"),
        path(f"{prefix}/<int:pk>/tasks/", open_tasks, kwargs, name=f"{subject}_tasks"),
        path(f"{prefix}/<int:pk>/tasks/new/", task_add, kwargs, name=f"{subject}_task_add"),
    ]


urlpatterns = [
    *_subject_paths("contacts", "contact"),
    *_subject_paths("companies", "company"),
    path("tasks/<int:pk>/done/", task_done, name="task_done"),
    path("tasks/<int:pk>/edit/", task_edit, name="task_edit"),
    path("my-day/", my_day, name="my_day"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications_read"),
    path("reassign/", reassign, name="reassign"),
]
