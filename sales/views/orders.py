"""Pages of orders: the list (filtered, paged by key), an order, entering one, paying, refunding, cancelling.

Every order comes from `Order.objects.visible_to(user)`: an order is visible with its contact."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors as contact_selectors
from contacts.paging import TimeCursor
from sales import selectors, services
from sales.filters import OrderFilter
from sales.forms import MAX_LINES, ContactPickForm, OrderForm, OrderLineFormSet, ReasonForm

CONTACT_PICK_LIMIT = 20


@require_GET
def order_list(request):
    """Orders the user may see, newest first; "Next" continues after the last one shown."""
    after = request.GET.get("after", "")
    try:
        cursor = TimeCursor.parse(after) if after else None
    except ValueError:
        return HttpResponseBadRequest(_("This is not a position in the list."))
    filterset = OrderFilter(request.GET or None, queryset=selectors.order_list(user=request.user))
    page = selectors.order_page(filterset.qs, after=cursor)
    query = request.GET.copy()
    query.pop("after", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode(), "first_page": cursor is None}
    template = "sales/partials/order_rows.html" if request.htmx else "sales/order_list.html"
    return render(request, template, context)


@require_GET
def order_detail(request, pk: int):
    order = get_object_or_404(selectors.order_detail(user=request.user), pk=pk)
    context = {"order": order, "lines": list(order.lines.all()), "reason_form": ReasonForm()}
    return render(request, "sales/order_detail.html", context)


def _pick_contact(request):
    form = ContactPickForm(request.GET)
    found = []
    if form.is_valid() and form.cleaned_data["q"].strip():
        visible = contact_selectors.contact_list(user=request.user)
        found = list(
            contact_selectors.contact_search(visible, form.cleaned_data["q"]).order_by("display_name", "id")[
                :CONTACT_PICK_LIMIT
            ]
        )
    return render(request, "sales/order_contact_pick.html", {"form": form, "found": found, "searched": form.is_bound})


def _with_one_more_line(data):
    """The posted form again with one more empty line ("Add a line" works without JavaScript)."""
    data = data.copy()
    key = "lines-TOTAL_FORMS"
    try:
        total = int(data.get(key, 0))
    except ValueError:
        total = 0
    data[key] = str(min(total + 1, MAX_LINES))
    return data


@require_http_methods(["GET", "POST"])
def order_create(request):
    """Enter an order for a contact the user may see (?contact=<id>); without one, find the contact first."""
    contact_id = request.GET.get("contact") or request.POST.get("contact")
    if not contact_id or not str(contact_id).isdigit():
        return _pick_contact(request)
    contact = get_object_or_404(contact_selectors.contact_list(user=request.user), pk=int(contact_id))
    if request.method == "POST" and "add_line" in request.POST:
        data = _with_one_more_line(request.POST)
        # What was typed stays; errors are shown only when the order is saved.
        form, lines = OrderForm(initial=data.dict()), OrderLineFormSet(data, prefix="lines")
        show_errors = False
    elif request.method == "POST":
        form, lines = OrderForm(request.POST), OrderLineFormSet(request.POST, prefix="lines")
        show_errors = True
        if form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            try:
                order = services.order_create(
                    by=request.user,
                    contact=contact,
                    lines=lines.lines,
                    placed_at=data["placed_at"],
                    channel=data["channel"],
                    currency=data["currency"],
                    reference=data["reference"],
                    note=data["note"],
                    paid_at=data["placed_at"] if data["paid"] else None,
                )
            except ValidationError as error:
                _add_service_error(form, error)
            else:
                messages.success(request, _("Order %(number)s is saved.") % {"number": order.number})
                return redirect(order)
    else:
        form, lines = OrderForm(), OrderLineFormSet(prefix="lines")
        show_errors = False
    context = {"contact": contact, "form": form, "lines": lines, "show_errors": show_errors}
    return render(request, "sales/order_form.html", context)


def _add_service_error(form, error: ValidationError) -> None:
    """A service's error on the form: on its field when the form has one, else at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _status_change(request, pk: int, action, done_text: str, refused_text: str):
    order = get_object_or_404(selectors.order_list(user=request.user), pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        done = action(order=order, by=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(order)
    if done:
        messages.success(request, done_text % {"number": order.number})
    else:
        messages.warning(request, refused_text % {"number": order.number, "status": order.get_status_display()})
    return redirect(order)


@require_POST
def order_pay(request, pk: int):
    return _status_change(
        request,
        pk,
        lambda *, order, by, reason: services.order_mark_paid(order=order, by=by),
        _("Order %(number)s is paid."),
        _("Order %(number)s is %(status)s; only a placed order can be paid."),
    )


@require_POST
def order_refund(request, pk: int):
    return _status_change(
        request,
        pk,
        services.order_refund,
        _("Order %(number)s is refunded."),
        _("Order %(number)s is %(status)s; only a paid order can be refunded."),
    )


@require_POST
def order_cancel(request, pk: int):
    return _status_change(
        request,
        pk,
        services.order_cancel,
        _("Order %(number)s is cancelled."),
        _("Order %(number)s is %(status)s; only a placed order can be cancelled."),
    )


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/pay/", order_pay, name="order_pay"),
    path("orders/<int:pk>/refund/", order_refund, name="order_refund"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order_cancel"),
]
