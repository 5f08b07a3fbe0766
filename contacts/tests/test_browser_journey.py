"""A rep's day in a real browser (Debian's Chromium): a contact, a call logged, a task added, all on its page."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.services import contact_create
from crm.tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_rep_logs_a_call_and_adds_a_task_on_a_contacts_page(live_server, page):
    rep = UserFactory(username="asha", first_name="Asha", password="correct-horse-battery")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("asha")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Asha")).to_be_visible()

    # The contact form (/contacts/new/) is not there yet: the contact is made through the service.
    contact = contact_create(by=rep, given_name="Ravi", family_name="Kumar", email="ravi@example.com")
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Ravi Kumar")).to_be_visible()

    log_form = page.get_by_test_id("log-form")
    expect(log_form).to_be_visible()  # loaded by htmx
    log_form.get_by_label("Kind").select_option("call")
    log_form.get_by_label("Direction").select_option("out")
    log_form.get_by_label("Summary").fill("Called about the annual renewal")
    log_form.get_by_label("Outcome").fill("Wants a quote for 20 seats")
    log_form.get_by_role("button", name="Log interaction").click()

    timeline = page.get_by_test_id("timeline-items")
    expect(timeline.get_by_text("Called about the annual renewal")).to_be_visible()
    expect(timeline.get_by_text("Wants a quote for 20 seats")).to_be_visible()
    expect(page.get_by_test_id("log-form").get_by_label("Summary")).to_have_value("")

    due = timezone.localtime(timezone.now() + datetime.timedelta(days=1), timezone.get_default_timezone())
    task_form = page.get_by_test_id("task-form")
    task_form.get_by_label("Title").fill("Send the quote")
    task_form.get_by_label("Due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    task_form.get_by_role("button", name="Add task").click()

    open_tasks = page.get_by_test_id("open-tasks")
    expect(open_tasks.get_by_text("Send the quote")).to_be_visible()

    # Both are still there when the page is opened again.
    page.reload()
    expect(page.get_by_test_id("timeline-items").get_by_text("Called about the annual renewal")).to_be_visible()
    expect(page.get_by_test_id("open-tasks").get_by_text("Send the quote")).to_be_visible()

    # Done in one click: the task leaves the list and the timeline says so.
    page.get_by_test_id("open-tasks").get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("open-tasks").get_by_text("Send the quote")).to_have_count(0)
    expect(page.get_by_test_id("timeline-items").get_by_text("Task done: Send the quote")).to_be_visible()
    assert errors == []
