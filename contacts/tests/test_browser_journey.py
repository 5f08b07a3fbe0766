"""A rep's day in a real browser (Debian's Chromium): a contact created through the form, a call logged,
a task added, all on its page."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from crm.tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_rep_creates_a_contact_logs_a_call_and_adds_a_task_on_its_page(live_server, page):
    rep = UserFactory(username="asha", first_name="Asha", password="correct-horse-battery")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("asha")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Asha")).to_be_visible()

    # The rep creates the contact through the form, from the contact list.
    page.goto(f"{live_server.url}/contacts/")
    page.get_by_role("link", name="New contact").click()
    form = page.get_by_test_id("contact-form")
    form.get_by_label("Given name").fill("Ravi")
    form.get_by_label("Family name").fill("Kumar")
    form.get_by_label("Email", exact=True).fill("Ravi@Example.com")
    form.get_by_label("Phone", exact=True).fill("098450 12345")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Ravi Kumar")).to_be_visible()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_test_id("contact-emails")).to_have_text("ravi@example.com")
    expect(page.get_by_test_id("contact-phones")).to_have_text("+91 98450 12345")
    contact = Contact.objects.get()
    assert (contact.owner, contact.email, contact.phone) == (rep, "ravi@example.com", "+919845012345")
    assert page.url == f"{live_server.url}{contact.get_absolute_url()}"

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
