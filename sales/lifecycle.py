"""The lifecycle moving by itself: how purchases, refunds and time move a contact between phases.

Every move goes through `contacts.services.phase_change` (or, for the nightly churn job, a
set-based statement that writes the same history rows), with a rule name and a reason. The
order services call these functions explicitly; there are no signals. The rules (README,
"Lifecycle rules"):

- a purchase is a paid order; refunded and cancelled orders are not purchases. Its date is
  when the order was placed, read in the business's time zone (settings.TIME_ZONE);
- first purchase: selection/acquisition -> retention ("first-purchase");
- a purchase of a product that is an accepted upsell or cross-sell of a product bought in
  an earlier purchase ("upsell" / "cross-sell"), or purchases in two different calendar
  months ("repeat-purchase"): retention -> extension;
- a purchase while churned: churned -> retention ("win-back");
- refund of the only purchase: retention/extension -> acquisition ("refund"); other refunds
  move nothing, but the refunded order no longer counts for any rule or for the churn clock;
- no purchase within CHURN_WINDOW_DAYS: retention/extension -> churned ("churn"), nightly.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, Phase
from contacts.services import phase_change
from sales import sql
from sales.models import Order, OrderLine, ProductRelation, RelationKind

RULE_FIRST_PURCHASE = "first-purchase"
RULE_REPEAT_PURCHASE = "repeat-purchase"
RULE_CROSS_SELL = "cross-sell"
RULE_UPSELL = "upsell"
RULE_WIN_BACK = "win-back"
RULE_REFUND = "refund"
RULE_CHURN = "churn"

CUSTOMER_PHASES = (Phase.RETENTION, Phase.EXTENSION)
PROSPECT_PHASES = (Phase.SELECTION, Phase.ACQUISITION)


def business_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def churn_window_days() -> int:
    return settings.CHURN_WINDOW_DAYS


def business_month_bounds(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """Start of the business-calendar month that `moment` falls in, and of the next one."""
    local = moment.astimezone(business_zone())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, following


def churn_lapse_at(last_purchase: datetime.datetime) -> datetime.datetime:
    """When a customer whose last purchase was at `last_purchase` churns: the start (business
    time) of the day after the last day of the window. A purchase at any time on day P keeps
    the customer through day P + CHURN_WINDOW_DAYS."""
    zone = business_zone()
    last_day = last_purchase.astimezone(zone).date() + datetime.timedelta(days=churn_window_days())
    return datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


def _purchases_of(contact: Contact, *, besides: Order):
    return Order.objects.purchases().filter(contact_id=contact.pk).exclude(pk=besides.pk)


def _move_at(order_time: datetime.datetime, contact: Contact) -> datetime.datetime:
    # History stays in time order: a move is never dated before the contact entered its phase.
    return max(order_time, contact.phase_changed_at)


def _extension_rule(order: Order, earlier) -> tuple[str, str] | None:
    """(rule, reason) when this purchase extends the relationship, else None."""
    bought_before = OrderLine.objects.filter(order__in=earlier.filter(placed_at__lte=order.placed_at)).values(
        "product_id"
    )
    relation = (
        ProductRelation.objects.filter(
            accepted=True,
            to_product__in=OrderLine.objects.filter(order=order).values("product_id"),
            from_product__in=bought_before,
        )
        .select_related("from_product", "to_product")
        .order_by("kind", "id")
        .first()
    )
    if relation is not None:
        values = {"offered": relation.to_product.name, "bought": relation.from_product.name, "order": order.number}
        if relation.kind == RelationKind.UPSELL:
            return RULE_UPSELL, _("%(order)s: bought %(offered)s, an upsell of %(bought)s") % values
        return RULE_CROSS_SELL, _("%(order)s: bought %(offered)s, a cross-sell of %(bought)s") % values
    month_start, next_month = business_month_bounds(order.placed_at)
    other_month = earlier.exclude(placed_at__gte=month_start, placed_at__lt=next_month).order_by("placed_at").first()
    if other_month is not None:
        return RULE_REPEAT_PURCHASE, _("%(order)s: a repeat purchase (bought before in %(month)s)") % {
            "order": order.number,
            "month": other_month.placed_at.astimezone(business_zone()).strftime("%Y-%m"),
        }
    return None


@transaction.atomic
def purchase_recorded(*, order: Order, by=None) -> str:
    """Apply the rules for an order that has just become a purchase (paid); returns the rule
    that moved the contact, or "" when none did."""
    # A shared lock against the nightly churn job (which takes it exclusively), so a purchase
    # being paid while the job runs is either seen by it or sees its result.
    sql.lifecycle_lock(shared=True)
    contact = Contact.objects.select_for_update().get(pk=order.contact_id)
    at = _move_at(order.paid_at or timezone.now(), contact)
    values = {"order": order.number}
    if contact.phase == Phase.CHURNED:
        rule, reason = RULE_WIN_BACK, _("win-back: %(order)s paid after the customer had churned") % values
        target = Phase.RETENTION
    elif contact.phase in PROSPECT_PHASES:
        rule, reason = RULE_FIRST_PURCHASE, _("%(order)s: first purchase") % values
        target = Phase.RETENTION
    elif contact.phase == Phase.RETENTION:
        found = _extension_rule(order, _purchases_of(contact, besides=order))
        if found is None:
            return ""
        (rule, reason), target = found, Phase.EXTENSION
    else:
        return ""
    phase_change(contact=contact, to=target, by=None, rule=rule, reason=reason, at=at)
    return rule


@transaction.atomic
def refund_recorded(*, order: Order, by=None) -> str:
    """Apply the rules for a refunded order: a customer whose only purchase it was goes back
    to acquisition; otherwise nothing moves (the refunded order just stops counting)."""
    contact = Contact.objects.select_for_update().get(pk=order.contact_id)
    if contact.phase not in CUSTOMER_PHASES or _purchases_of(contact, besides=order).exists():
        return ""
    reason = _("%(order)s refunded; it was the only purchase") % {"order": order.number}
    at = _move_at(order.refunded_at or timezone.now(), contact)
    phase_change(contact=contact, to=Phase.ACQUISITION, by=None, rule=RULE_REFUND, reason=reason, at=at)
    return RULE_REFUND


@transaction.atomic
def lifecycle_churn(*, now: datetime.datetime | None = None) -> int:
    """The nightly job: every customer without a purchase within the churn window moves to
    churned, in one set-based statement that also writes each one's PhaseChange and timeline
    item. Dated when the window ran out (see `churn_lapse_at`). Running it twice moves nobody
    twice. Returns how many contacts it moved."""
    sql.lifecycle_lock(shared=False)
    days = churn_window_days()
    return sql.churn_lapsed_customers(
        now=now or timezone.now(),
        zone=settings.TIME_ZONE,
        window_days=days,
        rule=RULE_CHURN,
        summaries={
            phase: _("%(from)s → %(to)s") % {"from": Phase(phase).label, "to": Phase.CHURNED.label}
            for phase in CUSTOMER_PHASES
        },
        reason_since_purchase=_("No purchase within the %(days)s-day churn window; last purchase on {date}")
        % {"days": days},
        reason_since_phase=_("No purchase within the %(days)s-day churn window since becoming a customer on {date}")
        % {"days": days},
    )
