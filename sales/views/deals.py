"""Pages of the pipeline: the kanban board of a pipeline, the deal list with its totals, a deal,
creating and editing one, moving it (by drag and drop on the board, or with the form on its page),
winning (and creating its order) and losing it.

Every deal comes from `Deal.objects.visible_to(user)` (another's deal is a 404); changing one
needs `pipeline.deal_may_change` (a visible deal the user may not change is refused with a message)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors as contact_selectors
from contacts.paging import TimeCursor
from sales import pipeline
from sales.forms_deals import ContactPickForm, DealFilter, DealForm, LoseForm, MoveForm
from sales.models import Deal, Pipeline, StageKind

CONTACT_PICK_LIMIT = 20
# Sent by static/crm/kanban.js: the answer is the board's fragment, not a page.
KANBAN_HEADER = "X-Kanban"


@require_GET
def deal_board(request, pk: int | None = None):
    """The kanban board of a pipeline (the first one in use without `pk`)."""
    pipelines = list(pipeline.pipeline_list())
    if pk is None:
        current = pipelines[0] if pipelines else None
    else:
        current = next((p for p in pipelines if p.pk == pk), None) or get_object_or_404(Pipeline, pk=pk)
    columns = pipeline.deal_board(user=request.user, pipeline=current) if current else []
    context = {
        "pipelines": pipelines,
        "pipeline": current,
        "columns": columns,
        "closed_days": pipeline.BOARD_CLOSED_DAYS,
        "per_stage": pipeline.BOARD_CARDS_PER_STAGE,
    }
    return render(request, "sales/kanban.html", context)


@require_GET
def deal_list(request):
    """Deals the user may see, filtered, with totals per stage of the whole filtered set; "Next"
    continues after the last one shown."""
    after = request.GET.get("after", "")
    try:
        cursor = TimeCursor.parse(after) if after else None
    except ValueError:
        return HttpResponseBadRequest(_("This is not a position in the list."))
    filterset = DealFilter(request.GET or None, queryset=pipeline.deal_list_rows(user=request.user), user=request.user)
    deals = filterset.qs
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "filter": filterset,
        "page": pipeline.deal_page(deals, after=cursor),
        "totals": pipeline.deal_totals(deals),
        "query": query.urlencode(),
        "first_page": cursor is None,
    }
    template = "sales/partials/deal_rows.html" if request.htmx else "sales/deal_list.html"
    return render(request, template, context)


def _deal_of(request, pk: int) -> Deal:
    return get_object_or_404(pipeline.deal_detail(user=request.user), pk=pk)


def _detail_context(request, deal: Deal, **forms) -> dict:
    now = timezone.now()
    changes = list(deal.stage_changes.all())
    history = [
        {"change": change, "until": changes[n + 1].at if n + 1 < len(changes) else now}
        for n, change in enumerate(changes)
    ]
    stages = pipeline.pipeline_stages(pipeline=deal.pipeline)
    products = list(deal.products.all())
    return {
        "deal": deal,
        "products": products,
        "history": history,
        "stages": stages,
        "weighted": pipeline.weighted_amount(deal.amount, deal.stage.probability),
        "may_change": pipeline.deal_may_change(user=request.user, deal=deal),
        "move_form": forms.get("move_form") or MoveForm(deal=deal, stages=stages),
        "can_make_order": deal.order_id is None and bool(products),
        "has_won_stage": any(stage.kind == StageKind.WON for stage in stages),
    }


@require_GET
def deal_detail(request, pk: int):
    deal = _deal_of(request, pk)
    return render(request, "sales/deal_detail.html", _detail_context(request, deal))


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
    return render(request, "sales/deal_contact_pick.html", {"form": form, "found": found, "searched": form.is_bound})


def _company_options(request):
    return (
        contact_selectors.company_list(user=request.user)
        .select_related(None)
        .only("id", "name")
        .order_by("-last_activity_at", "-id")[:20]
    )


def _form_page(request, form: DealForm, deal: Deal | None, contact):
    context = {"form": form, "deal": deal, "contact": contact, "company_options": _company_options(request)}
    return render(request, "sales/deal_form.html", context)


@require_http_methods(["GET", "POST"])
def deal_create(request):
    """Open a deal with a contact the user may see (?contact=<id>); without one, find the contact first."""
    contact_id = request.GET.get("contact") or request.POST.get("contact")
    if not contact_id or not str(contact_id).isdigit():
        return _pick_contact(request)
    contact = get_object_or_404(contact_selectors.contact_list(user=request.user), pk=int(contact_id))
    form = DealForm(request.POST or None, user=request.user, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            deal = pipeline.deal_create(by=request.user, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The deal is saved."))
            return redirect(deal)
    return _form_page(request, form, None, contact)


def _refuse(request, deal: Deal, error: PermissionDenied | None = None):
    messages.error(request, str(error or pipeline.refused()))
    return redirect(deal)


@require_http_methods(["GET", "POST"])
def deal_edit(request, pk: int):
    deal = _deal_of(request, pk)
    if not pipeline.deal_may_change(user=request.user, deal=deal):
        return _refuse(request, deal)
    form = DealForm(request.POST or None, user=request.user, deal=deal)
    if request.method == "POST" and form.is_valid():
        data = form.service_arguments()
        del data["contact"]
        try:
            pipeline.deal_update(deal=deal, by=request.user, **data)
        except ValidationError as error:
            form.add_service_error(error)
        except PermissionDenied as error:
            return _refuse(request, deal, error)
        else:
            messages.success(request, _("The deal is saved."))
            return redirect(deal)
    return _form_page(request, form, deal, deal.contact)


def _kanban_answer(request, deal: Deal):
    """What the board needs after a move: the card and every column's totals, as HTML fragments."""
    current = Pipeline.objects.get(pk=deal.pipeline_id)
    columns = pipeline.board_columns(user=request.user, pipeline=current)
    context = {
        "card": pipeline.card_of(user=request.user, deal=deal),
        "columns": columns,
        "pipeline": current,
        "per_stage": pipeline.BOARD_CARDS_PER_STAGE,
    }
    return render(request, "sales/partials/kanban_moved.html", context)


def _kanban_error(message: str, status: int) -> HttpResponse:
    # Plain text: the script shows it with textContent, never as HTML.
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_POST
def deal_move(request, pk: int):
    """Move a deal to a stage: from the board (a fragment back) or the form on the deal's page."""
    kanban = request.headers.get(KANBAN_HEADER) == "1"
    deal = get_object_or_404(pipeline.deal_list(user=request.user).select_related("pipeline", "stage"), pk=pk)
    form = MoveForm(request.POST, deal=deal)
    if not form.is_valid():
        if kanban:
            return _kanban_error(" ".join(e for errors in form.errors.values() for e in errors), 400)
        return _move_form_again(request, pk, form)
    try:
        moved = pipeline.deal_move(
            deal=deal, by=request.user, stage=form.cleaned_data["stage"], lost_reason=form.cleaned_data["lost_reason"]
        )
    except PermissionDenied as error:
        return _kanban_error(str(error), 403) if kanban else _refuse(request, deal, error)
    except ValidationError as error:
        if kanban:
            return _kanban_error(" ".join(error.messages), 400)
        form.add_error(None, error)
        return _move_form_again(request, pk, form)
    if kanban:
        return _kanban_answer(request, deal)
    if moved:
        messages.success(request, _("The deal is in %(stage)s now.") % {"stage": deal.stage.name})
    return redirect(deal)


def _move_form_again(request, pk: int, form: MoveForm):
    deal = _deal_of(request, pk)
    return render(request, "sales/deal_detail.html", _detail_context(request, deal, move_form=form), status=400)


@require_POST
def deal_win(request, pk: int):
    """Won, and with `create_order` the order made of the deal's products, in one step."""
    deal = get_object_or_404(pipeline.deal_list(user=request.user).select_related("pipeline", "stage"), pk=pk)
    create_order = request.POST.get("create_order") == "1"
    try:
        order = pipeline.deal_win(deal=deal, by=request.user, create_order=create_order)
    except PermissionDenied as error:
        return _refuse(request, deal, error)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(deal)
    if order is not None:
        messages.success(request, _("The deal is won and order %(number)s is created.") % {"number": order.number})
        return redirect(order)
    messages.success(request, _("The deal is won."))
    return redirect(deal)


@require_http_methods(["GET", "POST"])
def deal_lose(request, pk: int):
    deal = _deal_of(request, pk)
    if not pipeline.deal_may_change(user=request.user, deal=deal):
        return _refuse(request, deal)
    initial = {}
    stage_id = request.GET.get("stage", "")
    if stage_id.isdigit():
        initial["stage"] = int(stage_id)
    form = LoseForm(request.POST or None, deal=deal, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline.deal_lose(
                deal=deal, by=request.user, reason=form.cleaned_data["reason"], stage=form.cleaned_data["stage"]
            )
        except PermissionDenied as error:
            return _refuse(request, deal, error)
        except ValidationError as error:
            _lose_form_error(form, error)
        else:
            messages.success(request, _("The deal is marked lost."))
            return redirect(deal)
    return render(request, "sales/deal_lose.html", {"deal": deal, "form": form})


def _lose_form_error(form: LoseForm, error: ValidationError) -> None:
    fields = {"lost_reason": "reason", "stage": "stage"}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(fields.get(name), errors)
    else:
        form.add_error(None, error)


urlpatterns = [
    path("deals/", deal_board, name="deal_board"),
    path("deals/pipeline/<int:pk>/", deal_board, name="deal_board_of"),
    path("deals/list/", deal_list, name="deal_list"),
    path("deals/new/", deal_create, name="deal_create"),
    path("deals/<int:pk>/", deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", deal_move, name="deal_move"),
    path("deals/<int:pk>/win/", deal_win, name="deal_win"),
    path("deals/<int:pk>/lose/", deal_lose, name="deal_lose"),
]
