"""The work panel of contacts and companies (timeline, logging, tasks), My day and notifications."""

import datetime
import re
import zoneinfo
from html import unescape

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import selectors_work
from contacts.models import Activity, ActivityKind, Notification, Task, TaskStatus
from contacts.paging import TimeCursor
from contacts.services import activity_log, notify, task_create
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _at(minutes_ago: int) -> datetime.datetime:
    return timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=minutes_ago)


def _local(value: datetime.datetime, zone: str = "Asia/Kolkata") -> str:
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _log_data(**overrides) -> dict:
    return {
        "kind": "call",
        "direction": "out",
        "at": _local(_at(30)),
        "summary": "Called about the renewal",
        "outcome": "Wants a quote",
        "body": "Asked for 20 seats.",
        **overrides,
    }


def _task_data(user, **overrides) -> dict:
    due = timezone.now() + datetime.timedelta(days=1)
    return {"title": "Send the quote", "due_at": _local(due), "assignee": user.pk, "notes": "", **overrides}


# Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["contact_work", "contact_timeline", "contact_log", "contact_tasks", "contact_task_add"]
)
def test_contact_work_pages_follow_the_access_rule(org, name):
    contact = ContactFactory(owner=org.rep_a1)
    assert_access(
        reverse(f"contacts:{name}", args=[contact.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


@pytest.mark.parametrize(
    "name", ["company_work", "company_timeline", "company_log", "company_tasks", "company_task_add"]
)
def test_company_work_pages_follow_the_access_rule(org, name):
    company = CompanyFactory(owner=org.rep_b1)
    assert_access(
        reverse(f"contacts:{name}", args=[company.pk]),
        allowed=[org.rep_b1, org.rep_b2, org.manager_b, org.admin],
        denied=[org.rep_a1, org.manager_a],
    )


def test_task_edit_follows_the_access_rule(org):
    task = task_create(by=org.rep_a1, title="Call back", due_at=_at(-60))
    assert_access(
        reverse("contacts:task_edit", args=[task.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


def test_my_day_and_notifications_open_for_everyone_signed_in(org):
    for name in ["contacts:my_day", "contacts:notifications"]:
        assert_access(reverse(name), allowed=[org.rep_a1, org.manager_b, org.admin])


def test_nobody_logs_on_a_record_they_may_not_see(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    company = CompanyFactory(owner=org.rep_a1)
    client.force_login(org.rep_a2)
    for url in [
        reverse("contacts:contact_log", args=[contact.pk]),
        reverse("contacts:company_log", args=[company.pk]),
    ]:
        assert client.post(url, _log_data(), **HTMX).status_code == 404
    for url in [
        reverse("contacts:contact_task_add", args=[contact.pk]),
        reverse("contacts:company_task_add", args=[company.pk]),
    ]:
        assert client.post(url, _task_data(org.rep_a2), **HTMX).status_code == 404
    assert not Activity.objects.exists() and not Task.objects.exists()


def test_nobody_completes_a_task_they_may_not_see(client, org):
    task = task_create(by=org.rep_a1, title="Call back", due_at=_at(-60))
    client.force_login(org.rep_b1)
    assert client.post(reverse("contacts:task_done", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


# The panel on the record's page --------------------------------------------------------------


def test_contact_partial_loads_its_panel_with_htmx(org, rf):
    contact = ContactFactory(owner=org.rep_a1)
    html = render_to_string("contacts/partials/contact_work.html", {"contact": contact})
    assert f'hx-get="{reverse("contacts:contact_work", args=[contact.pk])}"' in html
    assert 'hx-trigger="load"' in html


def test_company_partial_loads_its_panel_with_htmx(org):
    company = CompanyFactory(owner=org.rep_a1)
    html = render_to_string("contacts/partials/company_work.html", {"company": company})
    assert f'hx-get="{reverse("contacts:company_work", args=[company.pk])}"' in html


def test_panel_shows_forms_open_tasks_and_timeline(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    activity_log(kind=ActivityKind.MEETING, by=org.rep_a1, contact=contact, summary="Met at the expo")
    task_create(by=org.rep_a1, title="Send the brochure", due_at=_at(-120), contact=contact)
    client.force_login(org.rep_a1)
    response = client.get(reverse("contacts:contact_work", args=[contact.pk]), **HTMX)
    page = response.content.decode()
    assert "<html" not in page  # a fragment for htmx
    assert "Met at the expo" in page and "Send the brochure" in page
    assert 'name="summary"' in page and 'name="due_at"' in page


def test_panel_without_javascript_is_a_whole_page(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_work", args=[contact.pk])).content.decode()
    assert "<html" in page and contact.display_name in page


def test_log_form_defaults_to_now_in_the_users_time_zone(client, org):
    org.rep_a1.time_zone = "America/New_York"
    org.rep_a1.save()
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_log", args=[contact.pk]), **HTMX).content.decode()
    value = re.search(r'name="at" value="([^"]+)"', page).group(1)
    shown = datetime.datetime.fromisoformat(value).replace(tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert abs(shown - timezone.now()) < datetime.timedelta(minutes=2)


# Logging an interaction ------------------------------------------------------------------


def test_logging_a_call_with_htmx_puts_it_on_the_timeline(client, org):
    company = CompanyFactory(owner=org.rep_a1)
    contact = ContactFactory(owner=org.rep_a1, company=company)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_log", args=[contact.pk]), _log_data(), **HTMX)
    assert response.status_code == 200
    assert "timeline-changed" in response["HX-Trigger"]
    [activity] = Activity.objects.all()
    assert (activity.kind, activity.direction, activity.by, activity.contact, activity.company) == (
        "call",
        "out",
        org.rep_a1,
        contact,
        company,
    )
    assert activity.at == _at(30).replace(second=0)
    assert (activity.outcome, activity.body) == ("Wants a quote", "Asked for 20 seats.")
    timeline = client.get(reverse("contacts:contact_timeline", args=[contact.pk]), **HTMX).content.decode()
    assert "Called about the renewal" in timeline and "Outbound" in timeline and "Wants a quote" in timeline


def test_logging_without_javascript_redirects_to_the_contact_page(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_log", args=[contact.pk]), _log_data())
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url()
    assert Activity.objects.filter(contact=contact).count() == 1


def test_logging_on_a_company_page_keeps_it_on_the_company(client, org):
    company = CompanyFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    client.post(reverse("contacts:company_log", args=[company.pk]), _log_data(kind="visit", direction=""))
    [activity] = Activity.objects.all()
    assert (activity.company, activity.contact, activity.kind) == (company, None, "visit")


@pytest.mark.parametrize(
    "bad",
    [
        {"summary": ""},
        {"summary": "   "},
        {"at": "yesterday-ish"},
        {"at": "2026-02-30T10:00"},
        {"at": ""},
        {"kind": "phase"},  # written by the CRM, not by hand
        {"kind": "nonsense"},
        {"direction": "sideways"},
        {"summary": "x" * 301},
    ],
)
def test_log_form_rejects_bad_input_and_saves_nothing(client, org, bad):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    for headers in (HTMX, {}):
        response = client.post(reverse("contacts:contact_log", args=[contact.pk]), _log_data(**bad), **headers)
        assert response.status_code == 200
        assert "invalid-feedback" in response.content.decode()
    assert not Activity.objects.exists()


def test_log_form_rejects_an_interaction_in_the_future(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    future = _local(timezone.now() + datetime.timedelta(days=2))
    response = client.post(reverse("contacts:contact_log", args=[contact.pk]), _log_data(at=future), **HTMX)
    assert "cannot be in the future" in response.content.decode()
    assert not Activity.objects.exists()


# Tasks on a record ---------------------------------------------------------------------


def test_adding_a_task_with_htmx_lists_it_among_the_open_tasks(client, org):
    contact = ContactFactory(owner=org.rep_b1)
    client.force_login(org.rep_b1)
    remind = timezone.now() + datetime.timedelta(hours=20)
    data = _task_data(org.rep_b2, remind_at=_local(remind), notes="Bring samples")
    response = client.post(reverse("contacts:contact_task_add", args=[contact.pk]), data, **HTMX)
    assert response.status_code == 200 and "tasks-changed" in response["HX-Trigger"]
    [task] = Task.objects.all()
    assert (task.assignee, task.contact, task.created_by, task.notes) == (
        org.rep_b2,
        contact,
        org.rep_b1,
        "Bring samples",
    )
    assert task.remind_at == remind.replace(second=0, microsecond=0)
    tasks = client.get(reverse("contacts:contact_tasks", args=[contact.pk]), **HTMX).content.decode()
    assert "Send the quote" in tasks


def test_adding_a_task_without_javascript_redirects_to_the_contact_page(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:contact_task_add", args=[contact.pk]), _task_data(org.rep_a1))
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url()
    task = Task.objects.get()
    assert task.remind_at == task.due_at  # no reminder time given: at the due time


def test_task_form_offers_only_users_the_user_may_see(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_task_add", args=[contact.pk]), **HTMX).content.decode()
    assert str(org.rep_a1) in page
    assert str(org.rep_a2) not in page and str(org.rep_b1) not in page


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"due_at": "tomorrow"},
        {"due_at": ""},
        {"remind_at": "2026-13-01T09:00"},
        {"assignee": "999999"},
        {"assignee": "not-a-number"},
    ],
)
def test_task_form_rejects_bad_input_and_saves_nothing(client, org, bad):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    for headers in (HTMX, {}):
        response = client.post(
            reverse("contacts:contact_task_add", args=[contact.pk]), _task_data(org.rep_a1, **bad), **headers
        )
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not Task.objects.exists()


def test_task_form_rejects_an_assignee_the_user_may_not_see(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    for stranger in (org.rep_a2, org.rep_b1, org.admin):
        response = client.post(reverse("contacts:contact_task_add", args=[contact.pk]), _task_data(stranger), **HTMX)
        assert "Select a valid choice" in response.content.decode()
    assert not Task.objects.exists()


def test_task_form_rejects_a_reminder_after_the_due_time(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    due = timezone.now() + datetime.timedelta(days=1)
    data = _task_data(org.rep_a1, due_at=_local(due), remind_at=_local(due + datetime.timedelta(hours=1)))
    response = client.post(reverse("contacts:contact_task_add", args=[contact.pk]), data, **HTMX)
    assert "cannot come after the due time" in response.content.decode()
    assert not Task.objects.exists()


def test_done_with_htmx_removes_the_task_and_puts_it_on_the_timeline(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    task = task_create(by=org.rep_a1, title="Send the brochure", due_at=_at(-60), contact=contact)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:task_done", args=[task.pk]), **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert "timeline-changed" in response["HX-Trigger"]
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None
    assert Activity.objects.get(contact=contact).kind == ActivityKind.TASK
    assert "Send the brochure" not in client.get(reverse("contacts:contact_tasks", args=[contact.pk])).content.decode()


def test_done_without_javascript_goes_back_where_it_came_from(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    task = task_create(by=org.rep_a1, title="Call", due_at=_at(-60), contact=contact)
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:task_done", args=[task.pk]), {"next": contact.get_absolute_url()})
    assert response["Location"] == contact.get_absolute_url()
    other = task_create(by=org.rep_a1, title="Call again", due_at=_at(-60))
    response = client.post(reverse("contacts:task_done", args=[other.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("contacts:my_day")


def test_editing_a_task_moves_its_reminder_and_arms_it_again(client, org):
    task = task_create(by=org.rep_a1, title="Call", due_at=_at(-60))
    Task.objects.filter(pk=task.pk).update(reminder_sent_at=timezone.now(), reminder_emailed_at=timezone.now())
    notify(user=org.rep_a1, text="Reminder: Call", key=f"task-reminder:{task.pk}")
    client.force_login(org.rep_a1)
    due = timezone.now() + datetime.timedelta(days=3)
    data = _task_data(
        org.rep_a1, title="Call Priya", due_at=_local(due), remind_at=_local(due - datetime.timedelta(hours=1))
    )
    response = client.post(reverse("contacts:task_edit", args=[task.pk]), data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Call Priya"
    assert task.remind_at == (due - datetime.timedelta(hours=1)).replace(second=0, microsecond=0)
    assert task.reminder_sent_at is None and task.reminder_emailed_at is None
    assert not Notification.objects.exists()


def test_editing_a_task_with_bad_input_changes_nothing(client, org):
    task = task_create(by=org.rep_a1, title="Call", due_at=_at(-60))
    client.force_login(org.rep_a1)
    for bad in ({"due_at": "soon"}, {"title": ""}, {"assignee": org.rep_b1.pk}):
        response = client.post(reverse("contacts:task_edit", args=[task.pk]), _task_data(org.rep_a1, **bad))
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    task.refresh_from_db()
    assert (task.title, task.assignee) == ("Call", org.rep_a1)


def test_task_edit_page_shows_the_current_values(client, org):
    task = task_create(by=org.rep_a1, title="Call Ravi", due_at=_at(-60), notes="About the invoice")
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:task_edit", args=[task.pk])).content.decode()
    assert "Call Ravi" in page and "About the invoice" in page and _local(task.due_at) in page


# Timeline ------------------------------------------------------------------------------


def test_timeline_is_newest_first_and_filters_by_kind(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    activity_log(kind="call", by=org.rep_a1, contact=contact, summary="Oldest call", at=_at(300))
    activity_log(kind="email", by=org.rep_a1, contact=contact, summary="Middle email", at=_at(200))
    activity_log(kind="call", by=org.rep_a1, contact=contact, summary="Newest call", at=_at(100))
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_timeline", args=[contact.pk])
    page = client.get(url, **HTMX).content.decode()
    assert page.index("Newest call") < page.index("Middle email") < page.index("Oldest call")
    calls = client.get(url, {"kind": "call"}, **HTMX).content.decode()
    assert "Newest call" in calls and "Oldest call" in calls and "Middle email" not in calls


def test_timeline_escapes_what_people_typed(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    activity_log(kind="note", by=org.rep_a1, contact=contact, summary="<script>alert(1)</script>")
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_timeline", args=[contact.pk]), **HTMX).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_company_timeline_shows_its_own_items_and_those_of_its_visible_people(client, org):
    company = CompanyFactory(owner=org.rep_b1)
    colleague = ContactFactory(owner=org.rep_b2, company=company, display_name="Shared Person")
    hidden = ContactFactory(owner=org.rep_a1, company=company, display_name="Hidden Person")
    activity_log(kind="visit", by=org.rep_b1, company=company, summary="Visited the office")
    activity_log(kind="call", by=org.rep_b2, contact=colleague, summary="Called the buyer")
    activity_log(kind="call", by=org.rep_a1, contact=hidden, summary="Secret call")
    client.force_login(org.rep_b1)
    page = client.get(reverse("contacts:company_timeline", args=[company.pk]), **HTMX).content.decode()
    assert "Visited the office" in page and "Called the buyer" in page and "Shared Person" in page
    assert "Secret call" not in page
    client.force_login(org.admin)
    assert "Secret call" in client.get(reverse("contacts:company_timeline", args=[company.pk]), **HTMX).content.decode()


def _make_timeline(contact, user, count: int, *, same_time_every: int = 4):
    """`count` items; groups of them share one timestamp, so only the id tells them apart."""
    base = _at(10_000)
    for n in range(count):
        activity_log(
            kind=ActivityKind.CALL if n % 2 else ActivityKind.NOTE,
            by=user,
            contact=contact,
            summary=f"Item {n:03d}",
            at=base + datetime.timedelta(minutes=n // same_time_every),
        )


def test_keyset_pages_never_repeat_or_skip_items_with_equal_times(org):
    contact = ContactFactory(owner=org.rep_a1)
    _make_timeline(contact, org.rep_a1, 47)
    seen, cursor = [], None
    while True:
        page = selectors_work.contact_timeline(contact=contact, after=cursor, size=5)
        seen += [item.pk for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
        cursor = TimeCursor.parse(str(cursor))  # as it travels through the URL
    expected = list(Activity.objects.filter(contact=contact).order_by("-at", "-id").values_list("pk", flat=True))
    assert seen == expected and len(set(seen)) == 47


def test_load_more_walks_the_whole_timeline_through_the_view(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    _make_timeline(contact, org.rep_a1, 45, same_time_every=9)
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_timeline", args=[contact.pk])
    summaries, next_url = [], url
    while next_url:
        page = client.get(next_url, **HTMX).content.decode()
        summaries += re.findall(r"Item \d{3}", page)
        more = re.search(r'hx-get="([^"]+before=[^"]+)"', page)
        next_url = unescape(more.group(1)) if more else None
    assert summaries == [f"Item {n:03d}" for n in reversed(range(45))]


def test_load_more_keeps_the_kind_filter(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    _make_timeline(contact, org.rep_a1, 50)
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_timeline", args=[contact.pk])
    summaries, next_url = [], f"{url}?kind=call"
    while next_url:
        page = client.get(next_url, **HTMX).content.decode()
        summaries += re.findall(r"Item (\d{3})", page)
        more = re.search(r'hx-get="([^"]+before=[^"]+)"', page)
        next_url = unescape(more.group(1)) if more else None
    assert [int(n) for n in summaries] == [n for n in reversed(range(50)) if n % 2]


def test_a_cursor_that_is_not_one_is_refused(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    url = reverse("contacts:contact_timeline", args=[contact.pk])
    for before in ["garbage", "2026-01-01T00:00:00_1", "2026-01-01T00:00:00+00:00_x"]:
        assert client.get(url, {"before": before}, **HTMX).status_code == 400


def test_timeline_without_javascript_is_a_page_with_a_link_to_older_items(client, org):
    contact = ContactFactory(owner=org.rep_a1)
    _make_timeline(contact, org.rep_a1, 25)
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:contact_timeline", args=[contact.pk])).content.decode()
    assert "<html" in page and "Load more" in page and 'href="/contacts/' in page


@pytest.mark.parametrize("subject", ["contact", "company"])
def test_timeline_queries_do_not_grow_with_items(client, org, subject):
    company = CompanyFactory(owner=org.rep_a1)
    small_contact = ContactFactory(owner=org.rep_a1, company=company)
    big_company = CompanyFactory(owner=org.rep_a1)
    big_contact = ContactFactory(owner=org.rep_a1, company=big_company)
    _make_timeline(small_contact, org.rep_a1, 5)
    _make_timeline(big_contact, org.rep_a1, 60)
    client.force_login(org.manager_a)

    def queries(record) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(f"contacts:{subject}_timeline", args=[record.pk]), **HTMX).status_code == 200
        return len(captured)

    if subject == "contact":
        small, big = queries(small_contact), queries(big_contact)
    else:
        small, big = queries(company), queries(big_company)
    assert big <= small <= 5


def test_panel_queries_do_not_grow_with_items(client, org, django_assert_max_num_queries):
    contact = ContactFactory(owner=org.rep_a1)
    _make_timeline(contact, org.rep_a1, 60)
    for n in range(15):
        task_create(by=org.rep_a1, title=f"Task {n}", due_at=_at(-n), contact=contact)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("contacts:contact_work", args=[contact.pk]), **HTMX)
    assert response.status_code == 200


# My day ---------------------------------------------------------------------------------


def test_my_day_splits_open_tasks_into_overdue_today_and_upcoming_in_the_users_zone(client, org):
    zone = zoneinfo.ZoneInfo("Asia/Kolkata")
    now = timezone.now()
    today_end = datetime.datetime.combine(now.astimezone(zone).date(), datetime.time(23, 59), tzinfo=zone)
    task_create(by=org.rep_a1, title="Overdue call", due_at=now - datetime.timedelta(minutes=5))
    task_create(by=org.rep_a1, title="Later today", due_at=today_end)
    task_create(by=org.rep_a1, title="Next week", due_at=now + datetime.timedelta(days=7))
    done = task_create(by=org.rep_a1, title="Already done", due_at=now - datetime.timedelta(hours=1))
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE)
    task_create(by=org.rep_a2, title="Someone else's", due_at=now)
    client.force_login(org.rep_a1)
    day = client.get(reverse("contacts:my_day")).context["day"]
    assert [t.title for t in day["overdue"]] == ["Overdue call"]
    assert [t.title for t in day["today"]] == ["Later today"]
    assert [t.title for t in day["upcoming"]] == ["Next week"]


def test_my_day_follows_the_users_time_zone_for_today(org):
    # 23:30 in Kolkata is 13:00 the same day in New York and 18:00 UTC: "tomorrow" differs.
    now = datetime.datetime(2026, 3, 10, 18, 0, tzinfo=datetime.UTC)
    due = datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)  # 01:30 next day in Kolkata
    task_create(by=org.rep_a1, title="Evening call", due_at=due)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        assert [t.title for t in selectors_work.my_day(user=org.rep_a1, now=now)["upcoming"]] == ["Evening call"]
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert [t.title for t in selectors_work.my_day(user=org.rep_a1, now=now)["today"]] == ["Evening call"]


def test_my_day_completes_a_task_in_one_click(client, org):
    task = task_create(by=org.rep_a1, title="Overdue call", due_at=_at(5))
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:my_day")).content.decode()
    assert f'hx-post="{reverse("contacts:task_done", args=[task.pk])}"' in page
    client.post(reverse("contacts:task_done", args=[task.pk]), **HTMX)
    assert "Overdue call" not in client.get(reverse("contacts:my_day")).content.decode()


def test_my_day_queries_do_not_grow_with_tasks(client, org, django_assert_max_num_queries):
    contact = ContactFactory(owner=org.rep_a1)
    company = CompanyFactory(owner=org.rep_a1)
    for n in range(30):
        task_create(by=org.rep_a1, title=f"Task {n}", due_at=_at(n * 100 - 1500), contact=contact)
        task_create(by=org.rep_a1, title=f"Company task {n}", due_at=_at(-n * 1000), company=company)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("contacts:my_day")).status_code == 200


def test_dashboard_lists_the_users_overdue_and_today_tasks(client, org):
    task_create(by=org.rep_a1, title="Overdue call", due_at=_at(5))
    task_create(by=org.rep_a1, title="Next month", due_at=_at(-60 * 24 * 30))
    client.force_login(org.rep_a1)
    response = client.get(reverse("dashboard"))
    assert [t.title for t in response.context["due_tasks"]["overdue"]] == ["Overdue call"]
    page = response.content.decode()
    assert "Overdue call" in page and "Next month" not in page


# Notifications ---------------------------------------------------------------------------


def test_notifications_page_lists_only_the_users_notices(client, org):
    notify(user=org.rep_a1, text="Your import is done", key="import:1")
    notify(user=org.rep_a2, text="Someone else's notice", key="import:2")
    client.force_login(org.rep_a1)
    page = client.get(reverse("contacts:notifications")).content.decode()
    assert "Your import is done" in page and "Someone else&#x27;s notice" not in page


def test_navbar_shows_the_unread_count(client, org):
    for n in range(3):
        notify(user=org.rep_a1, text=f"Notice {n}", key=f"n:{n}")
    client.force_login(org.rep_a1)
    page = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'data-testid="unread-count">3<', page)
    reminder = Notification.objects.filter(user=org.rep_a1).first()
    client.post(reverse("contacts:notifications_read"), {"id": reminder.pk})
    assert re.search(r'data-testid="unread-count">2<', client.get(reverse("dashboard")).content.decode())
    client.post(reverse("contacts:notifications_read"))
    assert 'data-testid="unread-count"' not in client.get(reverse("dashboard")).content.decode()


def test_marking_as_read_with_htmx_returns_the_row(client, org):
    notify(user=org.rep_a1, text="Reminder: call Ravi", key="n:1")
    notice = Notification.objects.get()
    client.force_login(org.rep_a1)
    response = client.post(reverse("contacts:notifications_read"), {"id": notice.pk}, **HTMX)
    assert "Reminder: call Ravi" in response.content.decode() and "Mark as read" not in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_nobody_marks_someone_elses_notice(client, org):
    notify(user=org.rep_a2, text="Private", key="n:1")
    notice = Notification.objects.get()
    client.force_login(org.rep_a1)
    assert client.post(reverse("contacts:notifications_read"), {"id": notice.pk}).status_code == 404
    assert client.post(reverse("contacts:notifications_read"), {"id": "x"}).status_code == 400
    client.post(reverse("contacts:notifications_read"))  # "all" means all of one's own
    notice.refresh_from_db()
    assert notice.read_at is None


def test_notifications_are_paged_by_key(client, org, django_assert_max_num_queries):
    same_time = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=org.rep_a1, text=f"Notice {n:03d}", key=f"n:{n}", created_at=same_time) for n in range(70)
    )
    client.force_login(org.rep_a1)
    texts, next_url = [], reverse("contacts:notifications")
    while next_url:
        with django_assert_max_num_queries(6):
            page = client.get(next_url, **HTMX).content.decode()
        texts += re.findall(r"Notice \d{3}", page)
        more = re.search(r'hx-get="([^"]+before=[^"]+)"', page)
        next_url = unescape(more.group(1)) if more else None
    assert sorted(texts) == sorted(f"Notice {n:03d}" for n in range(70)) and len(texts) == 70
