"""Pages of support: the queue, a ticket and its actions, the Tickets panel of a contact or
company, cost to serve, and the public satisfaction page of the emailed link."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from contacts.models import Company, Contact
from contacts.selectors import contact_search
from support import selectors, services
from support.filters import TicketFilter
from support.forms import (
    CONTACT_CHOICES_SHOWN,
    AssignForm,
    ContactSearchForm,
    PeriodForm,
    ReplyForm,
    SatisfactionForm,
    StatusForm,
    TicketEditForm,
    TicketForm,
    TimeEntryForm,
)
from support.satisfaction import LinkState, link_read
from support.sla import business_zone

QUEUE_PAGE_SIZE = 50
PANEL_SIZE = 10
COST_ROWS = 100
SUBJECT_MODELS = {"contact": Contact, "company": Company}


def _ticket(request, pk: int):
    """The ticket of the URL, if the user may see it (404 otherwise)."""
    return get_object_or_404(selectors.ticket_detail(user=request.user), pk=pk)


@require_GET
def queue(request):
    """The ticket queue: breached first, then the nearest due time, then priority."""
    filterset = TicketFilter(request.GET, queryset=selectors.ticket_queue(user=request.user), request=request)
    page = Paginator(filterset.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page_obj": page,
        "is_paginated": page.has_other_pages(),
        "tickets": page.object_list,
    }
    template = "support/partials/ticket_rows.html" if request.htmx else "support/ticket_list.html"
    return render(request, template, context)


def _chosen_contact(request):
    """The contact given in the query string or the posted form, if the user may see it."""
    raw = request.POST.get("contact") or request.GET.get("contact") or ""
    if not raw.isdigit() or len(raw) > 12:
        return None
    return Contact.objects.visible_to(request.user).filter(pk=int(raw)).first()


def _contact_choices(request, *, text: str, chosen) -> list:
    visible = Contact.objects.visible_to(request.user).only("id", "display_name", "email")
    if text:
        matches = contact_search(visible, text).order_by("display_name", "id")
    elif chosen is not None:
        matches = visible.none()
    else:
        matches = visible.order_by("-last_activity_at", "-id")
    choices = list(matches[:CONTACT_CHOICES_SHOWN])
    if chosen is not None and chosen.pk not in {contact.pk for contact in choices}:
        choices.insert(0, chosen)
    return choices


@require_http_methods(["GET", "POST"])
def create(request):
    """A new ticket; the contact comes from ?contact= (the contact's page) or from a search."""
    chosen = _chosen_contact(request)
    search = ContactSearchForm(request.GET)
    text = search.cleaned_data["q"].strip() if search.is_valid() else ""
    choices = _contact_choices(request, text=text, chosen=chosen)
    initial = {"contact": chosen.pk} if chosen is not None else {}
    form = TicketForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        contact_choices=choices,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ticket #%(number)s is open.") % {"number": ticket.pk})
            return redirect(ticket)
    return render(request, "support/ticket_form.html", {"form": form, "search": search, "chosen": chosen})


def _detail_context(request, ticket, **forms) -> dict:
    entries = list(selectors.ticket_time_entries(ticket=ticket))
    return {
        "ticket": ticket,
        "events": list(selectors.ticket_events(ticket=ticket)),
        "time_entries": entries,
        "minutes_total": sum(entry.minutes for entry in entries),
        "contact_visible": selectors.contact_visible(user=request.user, contact_id=ticket.contact_id),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(user=request.user, initial={"assignee": ticket.assignee_id}),
        "time_form": forms.get("time_form") or TimeEntryForm(),
        "status_form": forms.get("status_form"),
        "first_response_missed": ticket.first_response_missed(),
        "resolution_missed": ticket.resolution_missed(),
    }


@require_GET
def detail(request, pk: int):
    ticket = _ticket(request, pk)
    return render(request, "support/ticket_detail.html", _detail_context(request, ticket))


@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    ticket = _ticket(request, pk)
    if request.method == "POST":
        form = TicketEditForm(request.POST)
        if form.is_valid():
            try:
                services.ticket_update(ticket=ticket, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The ticket is saved."))
                return redirect(ticket)
    else:
        form = TicketEditForm(
            initial={
                "subject": ticket.subject,
                "description": ticket.description,
                "channel": ticket.channel,
                "priority": ticket.priority,
            }
        )
    return render(request, "support/ticket_edit.html", {"ticket": ticket, "form": form})


def _act(request, ticket, *, form_name: str, form, action) -> object:
    """Run a ticket action from its form: back to the ticket when it worked, else the ticket's
    page with the form and its errors (also the page a GET of the action's URL shows)."""
    if request.method == "POST" and form.is_valid():
        try:
            done_message = action(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if done_message:
                messages.success(request, done_message)
            return redirect(ticket)
    return render(request, "support/ticket_detail.html", _detail_context(request, ticket, **{form_name: form}))


@require_http_methods(["GET", "POST"])
def reply(request, pk: int):
    ticket = _ticket(request, pk)
    form = ReplyForm(request.POST if request.method == "POST" else None)

    def action(data):
        services.ticket_reply(ticket=ticket, by=request.user, kind=data["kind"], body=data["body"])
        return _("Added to the ticket.")

    return _act(request, ticket, form_name="reply_form", form=form, action=action)


@require_http_methods(["GET", "POST"])
def status(request, pk: int):
    ticket = _ticket(request, pk)
    form = StatusForm(request.POST if request.method == "POST" else None, ticket=ticket)

    def action(data):
        services.ticket_set_status(
            ticket=ticket, by=request.user, to=data["status"], link_base=request.build_absolute_uri("/")
        )
        return _("The ticket is now “%(status)s”.") % {"status": ticket.get_status_display()}

    return _act(request, ticket, form_name="status_form", form=form, action=action)


@require_http_methods(["GET", "POST"])
def assign(request, pk: int):
    ticket = _ticket(request, pk)
    form = AssignForm(request.POST if request.method == "POST" else None, user=request.user)

    def action(data):
        if services.ticket_assign(ticket=ticket, by=request.user, assignee=data["assignee"]):
            return _("The assignee is saved.")
        return ""

    return _act(request, ticket, form_name="assign_form", form=form, action=action)


@require_http_methods(["GET", "POST"])
def time_add(request, pk: int):
    ticket = _ticket(request, pk)
    form = TimeEntryForm(request.POST if request.method == "POST" else None)

    def action(data):
        services.time_entry_add(
            ticket=ticket, by=request.user, minutes=data["minutes"], note=data["note"], at=data["at"]
        )
        return _("The time is recorded.")

    return _act(request, ticket, form_name="time_form", form=form, action=action)


@require_GET
def record_tickets(request, subject: str, pk: int):
    """The Tickets panel of a contact or company (loaded by htmx; a page of its own without JavaScript)."""
    record = get_object_or_404(SUBJECT_MODELS[subject].objects.visible_to(request.user), pk=pk)
    context = {
        "subject": record,
        "subject_type": subject,
        "tickets": list(selectors.record_tickets(user=request.user, **{subject: record})[:PANEL_SIZE]),
        "summary": selectors.record_ticket_summary(user=request.user, **{subject: record}),
    }
    template = "support/partials/record_tickets_panel.html" if request.htmx else "support/record_tickets.html"
    return render(request, template, context)


@require_GET
def cost(request):
    """Cost to serve: minutes spent per contact over a period of the business's calendar."""
    form = PeriodForm(request.GET or None)
    start_day, end_day = form.period()
    zone = business_zone()
    start = datetime.datetime.combine(start_day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(end_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    rows = list(selectors.cost_to_serve(user=request.user, start=start, end=end)[:COST_ROWS])
    context = {
        "form": form,
        "start": start_day,
        "end": end_day,
        "rows": rows,
        "months": list(selectors.minutes_per_month(user=request.user, start=start, end=end)),
    }
    return render(request, "support/cost_to_serve.html", context)


# What a link that cannot be answered answers: gone when it was good once, bad when it never was.
CLOSED_LINK_STATUS = {LinkState.ANSWERED: 410, LinkState.EXPIRED: 410, LinkState.INVALID: 400}


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def satisfaction(request, token: str):
    """The customer's satisfaction page, opened from the emailed link without signing in."""
    state, ticket, nonce = link_read(token)
    if state != LinkState.VALID:
        return render(
            request,
            "support/satisfaction_closed.html",
            {"state": state, "ticket": ticket},
            status=CLOSED_LINK_STATUS[state],
        )
    form = SatisfactionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.satisfaction_record(ticket=ticket, nonce=nonce, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not recorded:
                context = {"state": LinkState.ANSWERED, "ticket": ticket}
                return render(request, "support/satisfaction_closed.html", context, status=410)
            return render(request, "support/satisfaction_thanks.html", {"ticket": ticket, "now": timezone.now()})
    return render(request, "support/satisfaction_form.html", {"ticket": ticket, "form": form})
