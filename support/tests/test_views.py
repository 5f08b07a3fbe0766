"""Support pages: the access rule on each, the queue's order and filters, the forms, query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.testing import assert_access
from support.models import Priority, Status, Ticket, TicketEvent
from support.services import ticket_reply, ticket_set_status, time_entry_add
from support.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


# Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ticket_detail", "ticket_edit", "ticket_reply", "ticket_status", "ticket_assign", "time_entry_add"],
)
def test_ticket_pages_follow_the_access_rule(org, name):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    assert_access(
        reverse(f"support:{name}", args=[ticket.pk]),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.manager_b, org.rep_b1],
    )


def test_the_assignee_sees_a_ticket_of_a_contact_they_cannot_see(org, client):
    ticket = TicketFactory(contact__owner=org.rep_b1, assignee=org.rep_a2)
    assert_access(
        reverse("support:ticket_detail", args=[ticket.pk]),
        allowed=[org.rep_a2, org.manager_a, org.rep_b1, org.rep_b2, org.manager_b, org.admin],
        denied=[org.rep_a1],
    )
    client.force_login(org.rep_a2)
    page = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
    assert ticket.contact.display_name in page
    assert ticket.contact.get_absolute_url() not in page  # a contact page they would get a 404 for


def test_record_panels_follow_the_access_rule(org):
    contact = ContactFactory(owner=org.rep_b1)
    company = CompanyFactory(owner=org.rep_b1)
    for url in [
        reverse("support:contact_tickets", args=[contact.pk]),
        reverse("support:company_tickets", args=[company.pk]),
    ]:
        assert_access(
            url, allowed=[org.rep_b1, org.rep_b2, org.manager_b, org.admin], denied=[org.rep_a1, org.manager_a]
        )


def test_the_queue_new_ticket_and_cost_pages_open_for_everyone_signed_in(org):
    for name in ["support:ticket_list", "support:ticket_create", "support:cost_to_serve"]:
        assert_access(reverse(name), allowed=[org.rep_a1, org.manager_b, org.admin])


def test_the_queue_lists_only_visible_tickets(org, client):
    mine = TicketFactory(contact__owner=org.rep_a1, subject="Mine")
    TicketFactory(contact__owner=org.rep_a2, subject="A colleague's")
    client.force_login(org.rep_a1)
    tickets = list(client.get(reverse("support:ticket_list")).context["tickets"])
    assert tickets == [mine]


def test_nobody_acts_on_a_ticket_they_may_not_see(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    client.force_login(org.rep_a2)
    posts = {
        "ticket_reply": {"kind": "reply", "body": "Hi"},
        "ticket_status": {"status": "resolved"},
        "ticket_assign": {"assignee": org.rep_a2.pk},
        "time_entry_add": {"minutes": "10"},
        "ticket_edit": {"subject": "Taken", "channel": "email", "priority": "urgent"},
    }
    for name, data in posts.items():
        assert client.post(reverse(f"support:{name}", args=[ticket.pk]), data).status_code == 404, name
    ticket.refresh_from_db()
    assert (ticket.status, ticket.subject, ticket.assignee) == (Status.NEW, ticket.subject, None)
    assert ticket.events.count() == 1 and not ticket.time_entries.exists()


def test_a_ticket_cannot_be_opened_for_a_contact_one_may_not_see(org, client):
    hidden = ContactFactory(owner=org.rep_b1)
    client.force_login(org.rep_a1)
    data = {"contact": hidden.pk, "subject": "Sneaky", "channel": "phone", "priority": "normal"}
    response = client.post(reverse("support:ticket_create"), data)
    assert response.status_code == 200
    assert "Choose one of your contacts." in response.content.decode()
    assert not Ticket.objects.exists()
    # ?contact= of a hidden contact preselects nothing
    page = client.get(reverse("support:ticket_create") + f"?contact={hidden.pk}").content.decode()
    assert hidden.display_name not in page


def test_assignees_offered_are_the_people_whose_work_one_sees(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.post(reverse("support:ticket_assign", args=[ticket.pk]), {"assignee": org.rep_b1.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


# The queue ------------------------------------------------------------------------------


def test_the_queue_puts_breached_first_then_nearest_due_then_priority(org, client):
    owner = org.rep_a1
    low_soon = TicketFactory(contact__owner=owner, priority=Priority.LOW, at=_ago(hours=23, minutes=30))
    urgent_later = TicketFactory(contact__owner=owner, priority=Priority.URGENT)
    breached = TicketFactory(contact__owner=owner, priority=Priority.NORMAL, at=_ago(hours=9))
    high = TicketFactory(contact__owner=owner, priority=Priority.HIGH)
    # Same due time as `high`, lower priority: after it.
    normal_same_due = TicketFactory(contact__owner=owner, priority=Priority.NORMAL)
    Ticket.objects.filter(pk=normal_same_due.pk).update(first_response_due_at=high.first_response_due_at)
    resolved = TicketFactory(contact__owner=owner)
    ticket_set_status(ticket=resolved, by=owner, to=Status.RESOLVED, request_satisfaction=False)

    client.force_login(owner)
    response = client.get(reverse("support:ticket_list"))
    order = [ticket.pk for ticket in response.context["tickets"]]
    assert order == [breached.pk, low_soon.pk, urgent_later.pk, high.pk, normal_same_due.pk]
    page = response.content.decode()
    assert page.count('data-testid="breached"') == 1


def test_the_queue_filters_by_status_priority_assignee_and_breach(org, client):
    owner = org.rep_a1
    mine = TicketFactory(contact__owner=owner, assignee=owner, priority=Priority.HIGH)
    nobodys = TicketFactory(contact__owner=owner, priority=Priority.LOW, at=_ago(days=2))
    done = TicketFactory(contact__owner=owner)
    ticket_set_status(ticket=done, by=owner, to=Status.CLOSED)
    client.force_login(owner)

    def listed(**query):
        return {ticket.pk for ticket in client.get(reverse("support:ticket_list"), query).context["tickets"]}

    assert listed() == {mine.pk, nobodys.pk}
    assert listed(status="all") == {mine.pk, nobodys.pk, done.pk}
    assert listed(status="closed") == {done.pk}
    assert listed(priority="high") == {mine.pk}
    assert listed(assignee=owner.pk) == {mine.pk}
    assert listed(assignee="none") == {nobodys.pk}
    assert listed(breached="true") == {nobodys.pk}
    assert listed(q=f"#{mine.pk}") == {mine.pk}
    assert listed(priority="bogus") == {mine.pk, nobodys.pk}  # a bad filter is ignored, never a 500


def test_the_queue_answers_htmx_with_its_rows(org, client):
    TicketFactory(contact__owner=org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.get(reverse("support:ticket_list"), **HTMX)
    assert response.templates[0].name == "support/partials/ticket_rows.html"


def test_queue_queries_do_not_grow_with_tickets(org, client, django_assert_max_num_queries):
    for n in range(30):
        TicketFactory(contact__owner=org.rep_a1, assignee=org.rep_a1 if n % 2 else None)
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("support:ticket_list"))
    assert len(response.context["tickets"]) == 30


# A ticket -------------------------------------------------------------------------------


def test_a_ticket_is_opened_from_the_contacts_page_with_its_contact_chosen(org, client):
    contact = ContactFactory(owner=org.rep_a1, display_name="Meena Pillai")
    client.force_login(org.rep_a1)
    page = client.get(reverse("support:ticket_create") + f"?contact={contact.pk}").content.decode()
    assert "Meena Pillai" in page and "checked" in page
    response = client.post(
        reverse("support:ticket_create") + f"?contact={contact.pk}",
        {"contact": contact.pk, "subject": "Refund", "channel": "whatsapp", "priority": "high", "assignee": ""},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert (ticket.contact, ticket.channel, ticket.priority, ticket.created_by) == (
        contact,
        "whatsapp",
        "high",
        org.rep_a1,
    )


def test_the_contact_search_offers_only_visible_matches(org, client):
    ContactFactory(owner=org.rep_a1, display_name="Kiran Rao")
    ContactFactory(owner=org.rep_b1, display_name="Kiran Shetty")
    client.force_login(org.rep_a1)
    page = client.get(reverse("support:ticket_create"), {"q": "Kiran"}).content.decode()
    assert "Kiran Rao" in page and "Kiran Shetty" not in page


def test_bad_input_on_the_new_ticket_form_is_explained_and_nothing_is_saved(org, client):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    response = client.post(
        reverse("support:ticket_create"),
        {"contact": contact.pk, "subject": "   ", "channel": "pigeon", "priority": "normal"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say in a few words what the ticket is about." in page or "This field is required." in page
    assert "Select a valid choice" in page
    assert not Ticket.objects.exists()


def test_the_ticket_page_shows_history_sla_and_time_escaped(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1, subject="<script>alert(1)</script>")
    ticket_reply(ticket=ticket, by=org.rep_a1, body="<img src=x onerror=alert(1)>")
    time_entry_add(ticket=ticket, by=org.rep_a1, minutes=95, note="Site visit")
    client.force_login(org.rep_a1)
    page = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert 'data-testid="first-response-due"' in page and 'data-testid="resolution-due"' in page
    assert "1 h 35 min" in page and "Site visit" in page


def test_status_buttons_move_the_ticket_and_refused_moves_say_why(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    client.force_login(org.rep_a1)
    page = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'name="status" value="resolved"' in page
    response = client.post(reverse("support:ticket_status", args=[ticket.pk]), {"status": "closed"})
    assert response.status_code == 302
    response = client.post(reverse("support:ticket_status", args=[ticket.pk]), {"status": "open"})
    assert response.status_code == 200 and "cannot move there" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_replies_time_and_assignment_from_the_ticket_page(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    client.force_login(org.rep_a1)
    client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"kind": "reply", "body": "Fixed it"})
    client.post(reverse("support:time_entry_add", args=[ticket.pk]), {"minutes": "20", "note": "Call"})
    client.post(reverse("support:ticket_assign", args=[ticket.pk]), {"assignee": org.rep_a1.pk})
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.assignee == org.rep_a1
    assert ticket.time_entries.get().minutes == 20
    assert ticket.events.filter(kind=TicketEvent.Kind.REPLY).count() == 1

    empty = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"kind": "reply", "body": "  "})
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    future = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("support:time_entry_add", args=[ticket.pk]), {"minutes": "5", "at": future})
    assert "Time cannot be spent in the future." in response.content.decode()
    assert client.post(reverse("support:time_entry_add", args=[ticket.pk]), {"minutes": "0"}).status_code == 200
    assert ticket.time_entries.count() == 1


def test_editing_the_priority_changes_the_due_times(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1, priority=Priority.LOW)
    client.force_login(org.rep_a1)
    response = client.post(
        reverse("support:ticket_edit", args=[ticket.pk]),
        {"subject": "Now urgent", "description": "", "channel": "phone", "priority": "urgent"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Now urgent"
    assert ticket.first_response_due_at == ticket.created_at + datetime.timedelta(hours=1)


def test_ticket_page_queries_do_not_grow_with_its_history(org, client, django_assert_max_num_queries):
    ticket = TicketFactory(contact__owner=org.rep_a1, assignee=org.rep_a1)
    for n in range(20):
        ticket_reply(ticket=ticket, by=org.rep_a1 if n % 2 else org.manager_a, body=f"Message {n}")
        time_entry_add(ticket=ticket, by=org.rep_a1, minutes=5)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("support:ticket_detail", args=[ticket.pk])).status_code == 200


# The panels of contacts and companies -------------------------------------------------------


def test_the_contact_page_loads_its_tickets_panel(org, client):
    contact = ContactFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert f'hx-get="{reverse("support:contact_tickets", args=[contact.pk])}"' in page


def test_the_tickets_panel_shows_active_first_with_counts_and_time(org, client, django_assert_max_num_queries):
    company = CompanyFactory(owner=org.rep_a1)
    contact = ContactFactory(owner=org.rep_a1, company=company)
    done = TicketFactory(contact=contact, subject="Old one")
    ticket_set_status(ticket=done, by=org.rep_a1, to=Status.RESOLVED, request_satisfaction=False)
    active = TicketFactory(contact=contact, subject="Fresh one")
    for _n in range(12):
        TicketFactory(contact=contact)
    time_entry_add(ticket=active, by=org.rep_a1, minutes=50)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("support:contact_tickets", args=[contact.pk]), **HTMX)
    summary = response.context["summary"]
    assert (summary["total"], summary["active"], summary["minutes"]) == (14, 13, 50)
    assert response.context["tickets"][-1] != done and len(response.context["tickets"]) == 10
    assert "New ticket" in response.content.decode()
    company_page = client.get(reverse("support:company_tickets", args=[company.pk]))
    assert company_page.context["summary"]["total"] == 14
    assert company_page.templates[0].name == "support/record_tickets.html"  # without htmx: a page


def test_ticket_events_are_on_the_contacts_timeline(org):
    ticket = TicketFactory(contact__owner=org.rep_a1)
    ticket_reply(ticket=ticket, by=org.rep_a1, body="Hello")
    assert Activity.objects.filter(contact=ticket.contact, kind="ticket").count() == 2


def test_cost_to_serve_page_lists_visible_contacts_by_minutes(org, client):
    ticket = TicketFactory(contact__owner=org.rep_a1, contact__display_name="Asha Rao")
    time_entry_add(ticket=ticket, by=org.rep_a1, minutes=40)
    hidden = TicketFactory(contact__owner=org.rep_b1, contact__display_name="Hidden Person")
    time_entry_add(ticket=hidden, by=org.rep_b1, minutes=40)
    client.force_login(org.rep_a1)
    response = client.get(reverse("support:cost_to_serve"))
    page = response.content.decode()
    assert "Asha Rao" in page and "Hidden Person" not in page
    bad = client.get(reverse("support:cost_to_serve"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert bad.status_code == 200 and "The end comes before the start." in bad.content.decode()


def test_support_is_in_the_navigation(org, client):
    client.force_login(org.rep_a1)
    response = client.get(reverse("support:ticket_list"))
    items = {item["key"]: item for item in response.context["nav_items"]}
    assert items["support"]["active"] and items["support"]["url"] == reverse("support:ticket_list")
