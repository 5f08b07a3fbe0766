"""The pipeline: deals moving through the stages of a pipeline, written and read here.

Writes (`deal_create`, `deal_update`, `deal_move`, `deal_win`, `deal_lose`, `deal_order_create`)
are one transaction each, refuse a user who may not change the deal (`Deal.objects.changeable_by`:
the owner, a manager of the owner's team, an admin) and put an item on the contact's timeline.
Reads start from `Deal.objects.visible_to(user)`: seeing a deal is the usual rule, changing it the
narrower one above."""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Count, DecimalField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import ActivityKind, Company, Contact
from contacts.normalise import clean_text
from contacts.paging import TimeCursor, TimePage, newest_first
from contacts.services import activity_log
from crm.templatetags.money import money
from sales.models import (
    ZERO,
    Deal,
    DealStageChange,
    DealStatus,
    Order,
    Pipeline,
    Product,
    Stage,
    StageKind,
    changeable_owner_ids,
    default_currency,
)

CENT = Decimal("0.01")
# A column shows this many cards; the rest are counted in its totals and listed on the deal list.
BOARD_CARDS_PER_STAGE = 100
# Won and lost columns show the deals closed this recently (the open columns show every open deal).
BOARD_CLOSED_DAYS = 30
DEAL_PAGE_SIZE = 50
PANEL_DEALS = 10
UPDATABLE_FIELDS = ["name", "amount", "currency", "expected_close_date", "company", "owner", "products"]
# The columns a card and a row of the list show.
CARD_COLUMNS = (
    "id",
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "status",
    "stage_id",
    "updated_at",
    "contact__id",
    "contact__display_name",
    "owner__id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def refused() -> PermissionDenied:
    return PermissionDenied(_("Only the deal's owner, a manager of their team or an admin can change this deal."))


# Who may change a deal --------------------------------------------------------------------


def deal_may_change(*, user, deal: Deal) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_crm_admin or deal.owner_id == user.pk:
        return True
    return Deal.objects.changeable_by(user).filter(pk=deal.pk).exists()


def _require_change(by, deal: Deal) -> None:
    if not deal_may_change(user=by, deal=deal):
        raise refused()


def deal_owner_choices(*, user, current=None):
    """Users to whom `user` may give a deal: themselves, the members of the teams they manage (all
    active users for an admin); a deal's current owner stays selectable."""
    from crm.models import User

    users = User.objects.filter(is_active=True)
    if not user.is_crm_admin:
        users = users.filter(pk__in=changeable_owner_ids(user))
    if current is not None:
        users = User.objects.filter(Q(pk__in=users.values("pk")) | Q(pk=current.pk))
    return users.distinct().order_by("first_name", "last_name", "username")


def _check_owner(*, by, owner) -> None:
    if owner.pk == by.pk and by.is_active:
        return
    if not deal_owner_choices(user=by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("You can give a deal only to yourself or to a member of a team you manage.")})


# Writes ----------------------------------------------------------------------------------


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0")).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"amount": _("Enter an amount, e.g. 150000.00.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    return amount


def _currency(value: str | None) -> str:
    return (clean_text(value or "") or default_currency()).upper()


def _log(deal: Deal, *, by, at: datetime.datetime, summary: str, body: str = "") -> None:
    activity_log(
        kind=ActivityKind.DEAL,
        by=by,
        summary=summary,
        body=body,
        contact=deal.contact,
        company=deal.company,
        at=at,
        ref=deal.ref,
    )


def _texts(deal: Deal, **more) -> dict:
    return {"name": deal.name, "amount": money(deal.amount, deal.currency), **more}


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(active=True).order_by("position", "id").first()


def _first_stage(pipeline: Pipeline | None, kind: str) -> Stage:
    stage = pipeline.stages.filter(kind=kind).order_by("position", "id").first() if pipeline else None
    if stage is None:
        names = {StageKind.OPEN: _("open"), StageKind.WON: _("won"), StageKind.LOST: _("lost")}
        raise ValidationError(
            {"stage": _("The pipeline has no %(kind)s stage; an admin adds one.") % {"kind": names[kind]}}
        )
    return stage


@transaction.atomic
def deal_create(
    *,
    by,
    contact: Contact,
    name: str,
    stage: Stage | None = None,
    owner=None,
    amount=ZERO,
    currency: str | None = None,
    expected_close_date: datetime.date | None = None,
    products=(),
    company: Company | None = None,
    at: datetime.datetime | None = None,
) -> Deal:
    """Open a deal with a contact (and by default the contact's company), in an open stage (the
    first of the first pipeline in use unless one is given). The creation is its first stage change."""
    at = at or timezone.now()
    owner = owner or by
    _check_owner(by=by, owner=owner)
    if stage is None:
        stage = _first_stage(default_pipeline(), StageKind.OPEN)
    if not stage.is_open:
        raise ValidationError({"stage": _("A deal starts in an open stage; win or lose it afterwards.")})
    deal = Deal(
        name=clean_text(name)[:200],
        contact=contact,
        company=company if company is not None else contact.company,
        owner=owner,
        amount=_amount(amount),
        currency=_currency(currency),
        expected_close_date=expected_close_date,
        pipeline_id=stage.pipeline_id,
        stage=stage,
        stage_entered_at=at,
        created_by=by,
        created_at=at,
        updated_at=at,
    )
    deal.full_clean()
    deal.save()
    products = list(products)
    if products:
        deal.products.set(products)
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, at=at, by=by)
    _log(
        deal,
        by=by,
        at=at,
        summary=_("Deal opened: %(name)s, %(amount)s (%(stage)s)") % _texts(deal, stage=stage.name),
    )
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, by, **fields) -> dict:
    """Change fields of a deal (not its stage: that is `deal_move`); returns {field: (old, new)}."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not deal fields: {sorted(unknown)}")
    _require_change(by, deal)
    if "name" in fields:
        fields["name"] = clean_text(fields["name"])[:200]
    if "amount" in fields:
        fields["amount"] = _amount(fields["amount"])
    if "currency" in fields:
        fields["currency"] = _currency(fields["currency"])
    if "owner" in fields and fields["owner"].pk != deal.owner_id:
        _check_owner(by=by, owner=fields["owner"])
    changes = {}
    products = fields.pop("products", None)
    for name, value in fields.items():
        old = getattr(deal, name)
        if old != value:
            changes[name] = (old, value)
            setattr(deal, name, value)
    if products is not None:
        old_products = set(deal.products.values_list("pk", flat=True))
        new_products = {product.pk for product in products}
        if old_products != new_products:
            deal.products.set(products)
            changes["products"] = (old_products, new_products)
    if not changes:
        return changes
    deal.updated_at = timezone.now()
    deal.full_clean()
    deal.save(update_fields=[*(name for name in changes if name != "products"), "updated_at"])
    labels = ", ".join(str(Deal._meta.get_field(name).verbose_name) for name in changes)
    _log(deal, by=by, at=deal.updated_at, summary=_("Deal %(name)s changed: %(fields)s") % _texts(deal, fields=labels))
    return changes


def _locked(deal: Deal) -> Deal:
    """The deal's row, locked until the end of the transaction, so two moves cannot interleave."""
    return Deal.objects.select_for_update(of=("self",)).select_related("stage", "contact").get(pk=deal.pk)


@transaction.atomic
def deal_move(*, deal: Deal, by, stage: Stage, lost_reason: str = "", at: datetime.datetime | None = None) -> bool:
    """Move a deal to a stage of its pipeline, recording the move with its time. A won (lost) stage
    wins (loses) the deal, a lost one needs the reason; an open one reopens a closed deal unless its
    order exists. False when the deal is in that stage already."""
    current = _locked(deal)
    _require_change(by, current)
    if stage.pipeline_id != current.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if stage.pk == current.stage_id:
        return False
    at = at or timezone.now()
    reason = clean_text(lost_reason)[:300]
    was, from_stage_id = current.status, current.stage_id
    if stage.kind == StageKind.LOST and not reason:
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    if stage.kind == StageKind.OPEN and was != DealStatus.OPEN and current.order_id:
        raise ValidationError({"stage": _("This deal's order exists; it cannot be reopened. Open a new deal instead.")})
    changes = {
        "stage": stage,
        "stage_entered_at": at,
        "updated_at": timezone.now(),
        "status": DealStatus(stage.kind),
        "won_at": at if stage.kind == StageKind.WON else None,
        "lost_at": at if stage.kind == StageKind.LOST else None,
        "lost_reason": reason if stage.kind == StageKind.LOST else "",
    }
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()
    current.save(update_fields=list(changes))
    DealStageChange.objects.create(deal=current, from_stage_id=from_stage_id, to_stage=stage, at=at, by=by)
    for name, value in changes.items():
        setattr(deal, name, value)
    texts = _texts(current, stage=stage.name)
    if stage.kind == StageKind.WON:
        _log(current, by=by, at=at, summary=_("Deal won: %(name)s, %(amount)s") % texts)
    elif stage.kind == StageKind.LOST:
        _log(current, by=by, at=at, summary=_("Deal lost: %(name)s, %(amount)s") % texts, body=reason)
    elif was != DealStatus.OPEN:
        _log(current, by=by, at=at, summary=_("Deal reopened: %(name)s, in %(stage)s") % texts)
    else:
        _log(current, by=by, at=at, summary=_("Deal %(name)s moved to %(stage)s") % texts)
    return True


@transaction.atomic
def deal_win(
    *,
    deal: Deal,
    by,
    create_order: bool = False,
    stage: Stage | None = None,
    at: datetime.datetime | None = None,
) -> Order | None:
    """Win a deal (into the pipeline's first won stage unless one is given) and, if asked, create
    its order in the same step; all or nothing. Returns the order when one was created."""
    _require_change(by, deal)
    if deal.status != DealStatus.WON or (stage is not None and stage.pk != deal.stage_id):
        stage = stage or _first_stage(deal.pipeline, StageKind.WON)
        if stage.kind != StageKind.WON:
            raise ValidationError({"stage": _("Choose a won stage.")})
        deal_move(deal=deal, by=by, stage=stage, at=at)
    if not create_order:
        return None
    return deal_order_create(deal=deal, by=by)


@transaction.atomic
def deal_order_create(*, deal: Deal, by) -> Order:
    """The order of a won deal: one line per product of the deal, at the product's unit price, for
    the deal's contact and company, in the deal's currency. Once per deal."""
    from sales.services import order_create

    current = _locked(deal)
    _require_change(by, current)
    if current.status != DealStatus.WON:
        raise ValidationError(_("Only a won deal makes an order."))
    if current.order_id:
        raise ValidationError(
            _("This deal's order exists already: %(number)s.") % {"number": Order(pk=current.order_id).number}
        )
    products = list(current.products.order_by("name", "id"))
    if not products:
        raise ValidationError(_("Add the products the customer buys to the deal first: its order is made of them."))
    order = order_create(
        by=by,
        contact=current.contact,
        company=current.company,
        currency=current.currency,
        lines=[{"product": product} for product in products],
        note=_("From the deal “%(name)s”") % {"name": current.name},
    )
    current.order, current.updated_at = order, timezone.now()
    current.save(update_fields=["order", "updated_at"])
    deal.order, deal.updated_at = current.order, current.updated_at
    return order


@transaction.atomic
def deal_lose(*, deal: Deal, by, reason: str, stage: Stage | None = None, at: datetime.datetime | None = None) -> bool:
    """Lose a deal, with the reason (required), into the pipeline's first lost stage unless one is given."""
    _require_change(by, deal)
    if not clean_text(reason):
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    stage = stage or _first_stage(deal.pipeline, StageKind.LOST)
    if stage.kind != StageKind.LOST:
        raise ValidationError({"stage": _("Choose a lost stage.")})
    return deal_move(deal=deal, by=by, stage=stage, lost_reason=reason, at=at)


# Reads -----------------------------------------------------------------------------------


def pipeline_list() -> QuerySet[Pipeline]:
    """The pipelines in use, in their order (the board's switcher)."""
    return Pipeline.objects.filter(active=True).order_by("position", "id")


def pipeline_stages(*, pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def stage_choices() -> QuerySet[Stage]:
    """Every stage of every pipeline, for the list's filter: pipeline by pipeline, in order."""
    return Stage.objects.select_related("pipeline").order_by("pipeline__position", "pipeline_id", "position", "id")


def deal_list(*, user) -> QuerySet[Deal]:
    return Deal.objects.visible_to(user)


def deal_list_rows(*, user) -> QuerySet[Deal]:
    """The deals of the list page: only the columns a row shows."""
    return (
        deal_list(user=user)
        .select_related("contact", "owner", "stage", "pipeline")
        .only(*CARD_COLUMNS, "stage__name", "stage__kind", "pipeline__name")
    )


def deal_detail(*, user) -> QuerySet[Deal]:
    history = DealStageChange.objects.select_related("from_stage", "to_stage", "by").order_by("at", "id")
    return (
        deal_list(user=user)
        .select_related("contact", "company", "owner", "stage", "pipeline", "order")
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.order_by("name", "id")),
            Prefetch("stage_changes", queryset=history),
        )
    )


def deal_page(queryset: QuerySet[Deal], *, after: TimeCursor | None = None, size: int = DEAL_PAGE_SIZE) -> TimePage:
    """Most recently changed first by (updated_at, id), never OFFSET (index deal_updated_idx)."""
    return newest_first(queryset, time_field="updated_at", after=after, size=size)


@dataclass
class Total:
    currency: str
    amount: Decimal
    weighted: Decimal


@dataclass
class StageTotals:
    stage_id: int
    stage: str
    pipeline: str
    probability: int
    count: int = 0
    totals: list[Total] = field(default_factory=list)


def weighted_amount(amount: Decimal, probability: int) -> Decimal:
    return (amount * probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def deal_totals(queryset: QuerySet[Deal]) -> dict:
    """Count, amount and weighted amount (amount times the stage's win probability) of the deals of a
    queryset, per stage and currency, in one grouped query; and the same for all of them."""
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability") / Value(100),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    rows = (
        queryset.order_by()
        .values("stage_id", "stage__name", "stage__probability", "pipeline__name", "currency")
        .annotate(count=Count("id"), sum_amount=Sum("amount"), sum_weighted=Sum(weighted))
        .order_by("pipeline__position", "pipeline_id", "stage__position", "stage_id", "currency")
    )
    stages: dict[int, StageTotals] = {}
    overall: dict[str, Total] = {}
    count = 0
    for row in rows:
        stage = stages.setdefault(
            row["stage_id"],
            StageTotals(
                stage_id=row["stage_id"],
                stage=row["stage__name"],
                pipeline=row["pipeline__name"],
                probability=row["stage__probability"],
            ),
        )
        amount, weight = row["sum_amount"] or ZERO, (row["sum_weighted"] or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
        stage.count += row["count"]
        count += row["count"]
        stage.totals.append(Total(currency=row["currency"], amount=amount, weighted=weight))
        total = overall.setdefault(row["currency"], Total(currency=row["currency"], amount=ZERO, weighted=ZERO))
        total.amount += amount
        total.weighted += weight
    return {"stages": list(stages.values()), "count": count, "totals": list(overall.values())}


@dataclass
class Column:
    stage: Stage
    deals: list = field(default_factory=list)
    count: int = 0
    totals: list[Total] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        """Deals of the column counted in its totals but not shown as cards."""
        return self.count - len(self.deals)


def _on_board(user, pipeline: Pipeline, now: datetime.datetime) -> QuerySet[Deal]:
    since = now - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    on_board = (
        Q(status=DealStatus.OPEN)
        | Q(status=DealStatus.WON, won_at__gte=since)
        | Q(status=DealStatus.LOST, lost_at__gte=since)
    )
    return Deal.objects.visible_to(user).filter(on_board, pipeline=pipeline)


def board_columns(*, user, pipeline: Pipeline, now: datetime.datetime | None = None) -> list[Column]:
    """The stages of a pipeline with the count, sum and weighted sum of their deals on the board (one
    grouped query), without the cards (after a move, only these change)."""
    now = now or timezone.now()
    columns = [Column(stage=stage) for stage in pipeline_stages(pipeline=pipeline)]
    by_stage = {column.stage.pk: column for column in columns}
    rows = (
        _on_board(user, pipeline, now)
        .order_by()
        .values("stage_id", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("stage_id", "currency")
    )
    for row in rows:
        column = by_stage.get(row["stage_id"])
        if column is None:
            continue
        column.count += row["count"]
        column.totals.append(
            Total(
                currency=row["currency"],
                amount=row["amount"],
                weighted=weighted_amount(row["amount"], column.stage.probability),
            )
        )
    return columns


def board_cards(
    *, user, pipeline: Pipeline, now: datetime.datetime | None = None, per_stage: int = BOARD_CARDS_PER_STAGE
) -> QuerySet[Deal]:
    """The cards of a board in two queries: per stage the `per_stage` most recently changed deals, with
    `may_move` telling whether the user may drag each."""
    now = now or timezone.now()
    if user.is_crm_admin:
        may_move = Value(True)
    else:
        may_move = ExpressionWrapper(Q(owner__in=changeable_owner_ids(user)), output_field=BooleanField())
    # The deals are ranked alone, then only the cards shown are read with their contact and owner: in one
    # query PostgreSQL looked up a contact for each of the tens of thousands of deals on the board, or,
    # given the ranking as a subquery, expected all of them back and scanned the deals table.
    shown = list(
        _on_board(user, pipeline, now)
        .annotate(
            place=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("updated_at").desc(), F("id").desc()])
        )
        .filter(place__lte=per_stage)
        .values_list("id", flat=True)
    )
    return (
        Deal.objects.filter(pk__in=shown)
        .select_related("contact", "owner")
        .only(*CARD_COLUMNS)
        .annotate(may_move=may_move)
        .order_by("stage_id", "-updated_at", "-id")
    )


def deal_board(*, user, pipeline: Pipeline, now: datetime.datetime | None = None) -> list[Column]:
    """The kanban board of a pipeline: its columns with their totals and cards, in four queries
    (stages, totals, the cards' ids, the cards) whatever the number of deals."""
    now = now or timezone.now()
    columns = board_columns(user=user, pipeline=pipeline, now=now)
    by_stage = {column.stage.pk: column for column in columns}
    for deal in board_cards(user=user, pipeline=pipeline, now=now):
        column = by_stage.get(deal.stage_id)
        if column is not None:
            column.deals.append(deal)
    return columns


def card_of(*, user, deal: Deal):
    """One card again, as the board shows it (after a move)."""
    may_move = deal_may_change(user=user, deal=deal)
    card = Deal.objects.select_related("contact", "owner").only(*CARD_COLUMNS).get(pk=deal.pk)
    card.may_move = may_move
    return card


def open_deals_of(*, user, contact: Contact | None = None, company: Company | None = None, limit: int = PANEL_DEALS):
    """The open deals panel of a contact's or a company's page: the deals the user may see, most
    recently changed first, with their count and sums per currency (one query, two with more
    deals than the panel lists)."""
    deals = Deal.objects.visible_to(user).open()
    deals = deals.filter(contact=contact) if contact is not None else deals.filter(company=company)
    rows = list(deals.select_related("stage").order_by("-updated_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        sums: dict[str, Total] = {}
        for deal in rows:
            total = sums.setdefault(deal.currency, Total(currency=deal.currency, amount=ZERO, weighted=ZERO))
            total.amount += deal.amount
        totals, count = [sums[currency] for currency in sorted(sums)], len(rows)
    else:
        grouped = deals.order_by().values("currency").annotate(count=Count("id"), amount=Sum("amount"))
        grouped = list(grouped.order_by("currency"))
        totals = [Total(currency=row["currency"], amount=row["amount"], weighted=ZERO) for row in grouped]
        count = sum(row["count"] for row in grouped)
    return {"deals": rows[:limit], "count": count, "totals": totals}
