"""Writes of the sales app: the catalogue, its relations, orders and their status. Views, the
admin, imports, the demo and tasks all call these. Each is one transaction; order changes put
an item on the contact's timeline and call the lifecycle rules (sales.lifecycle) explicitly."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import ActivityKind, Contact, CustomerType
from contacts.normalise import clean_text
from contacts.services import activity_log
from crm.templatetags.money import money
from sales import lifecycle, sql
from sales.models import (
    ZERO,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductRelation,
    RelationKind,
    RelationSource,
    default_currency,
)

CENT = Decimal("0.01")
PRODUCT_FIELDS = ["sku", "name", "category", "description", "unit_price", "currency", "active"]
# An order may be dated a little ahead of the server's clock (a till whose clock runs fast), not more.
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Enter an amount, e.g. 1499.00.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: _("The amount cannot be negative.")})
    return amount


def _currency(value: str | None) -> str:
    return (clean_text(value or "") or default_currency()).upper()


# Catalogue ------------------------------------------------------------------------------


def _product_fields(fields: dict) -> dict:
    cleaned = dict(fields)
    if "sku" in cleaned:
        cleaned["sku"] = "".join(clean_text(cleaned["sku"]).split()).upper()
    for name in ("name", "category"):
        if name in cleaned:
            cleaned[name] = clean_text(cleaned[name])
    if "description" in cleaned:
        cleaned["description"] = clean_text(cleaned["description"], multiline=True)
    if "unit_price" in cleaned:
        cleaned["unit_price"] = _money(cleaned["unit_price"], "unit_price")
    if "currency" in cleaned:
        cleaned["currency"] = _currency(cleaned["currency"])
    return cleaned


@transaction.atomic
def product_create(
    *,
    by,
    sku: str,
    name: str,
    unit_price,
    category: str = "",
    description: str = "",
    currency: str | None = None,
    active: bool = True,
) -> Product:
    fields = _product_fields(
        {
            "sku": sku,
            "name": name,
            "unit_price": unit_price,
            "category": category,
            "description": description,
            "currency": currency,
        }
    )
    product = Product(active=active, **fields)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, by, **fields) -> dict:
    """Change fields of a product; returns {field: (old, new)} of what really changed."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    changes = {}
    for field, value in _product_fields(fields).items():
        old = getattr(product, field)
        if old != value:
            changes[field] = (old, value)
            setattr(product, field, value)
    if changes:
        product.updated_at = timezone.now()
        product.full_clean()
        product.save(update_fields=[*changes, "updated_at"])
    return changes


@transaction.atomic
def product_relation_set(*, from_product: Product, to_product: Product, kind: str, by) -> ProductRelation:
    """Set by hand that who buys `from_product` should be offered `to_product` (accepted at once).
    An existing suggestion for the pair becomes this relation (its figures kept)."""
    if from_product.pk == to_product.pk:
        raise ValidationError({"to_product": _("A product cannot be offered to buyers of itself.")})
    if kind not in RelationKind.values:
        raise ValidationError({"kind": _("Choose cross-sell or upsell.")})
    relation, _created = ProductRelation.objects.select_for_update().get_or_create(
        from_product=from_product,
        to_product=to_product,
        defaults={"kind": kind, "source": RelationSource.MANUAL},
    )
    relation.kind = kind
    relation.accepted, relation.accepted_by, relation.accepted_at = True, by, timezone.now()
    relation.dismissed_at = None
    relation.save(update_fields=["kind", "accepted", "accepted_by", "accepted_at", "dismissed_at"])
    return relation


@transaction.atomic
def product_relation_accept(*, relation: ProductRelation, by, kind: str = RelationKind.CROSS_SELL) -> bool:
    """Accept a suggestion as a relation (once; False when it was decided already)."""
    if kind not in RelationKind.values:
        raise ValidationError({"kind": _("Choose cross-sell or upsell.")})
    return bool(
        ProductRelation.objects.filter(pk=relation.pk, accepted=False, dismissed_at__isnull=True).update(
            accepted=True, kind=kind, accepted_by=by, accepted_at=timezone.now()
        )
    )


@transaction.atomic
def product_relation_dismiss(*, relation: ProductRelation, by) -> bool:
    """Dismiss a pending suggestion; the nightly job will not offer it again."""
    return bool(
        ProductRelation.objects.filter(pk=relation.pk, accepted=False, dismissed_at__isnull=True).update(
            dismissed_at=timezone.now()
        )
    )


@transaction.atomic
def product_relation_remove(*, relation: ProductRelation, by) -> None:
    """Withdraw a relation. A pair that came from the data stays known as dismissed, so it is not
    suggested again; one set by hand is deleted."""
    if relation.source == RelationSource.SUGGESTED:
        ProductRelation.objects.filter(pk=relation.pk).update(
            accepted=False, accepted_by=None, accepted_at=None, dismissed_at=timezone.now()
        )
    else:
        ProductRelation.objects.filter(pk=relation.pk).delete()


def suggestions_refresh(*, basket: str = "order", now: datetime.datetime | None = None) -> dict[str, int]:
    """Recompute products bought together (support, confidence, lift) from all paid orders."""
    with transaction.atomic():
        return sql.relations_refresh(now=now or timezone.now(), basket=basket)


# Orders ---------------------------------------------------------------------------------


@dataclass
class LineInput:
    """One line of an order to create; unit_price None means the product's price."""

    product: Product
    quantity: int = 1
    unit_price: Decimal | None = None
    discount: Decimal = ZERO


def _as_line(line) -> LineInput:
    return line if isinstance(line, LineInput) else LineInput(**line)


def _order_lines(raw_lines: Iterable, currency: str) -> list[OrderLine]:
    lines = []
    for position, raw in enumerate(raw_lines, start=1):
        line = _as_line(raw)
        where = _("Line %(n)s") % {"n": position}
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            raise ValidationError(_("%(line)s: the quantity must be a whole number of at least 1.") % {"line": where})
        if line.unit_price is None:
            if line.product.currency != currency:
                raise ValidationError(
                    _("%(line)s: %(product)s is priced in %(product_currency)s, the order in %(currency)s.")
                    % {
                        "line": where,
                        "product": line.product.name,
                        "product_currency": line.product.currency,
                        "currency": currency,
                    }
                )
            unit_price = line.product.unit_price
        else:
            unit_price = _money(line.unit_price, "unit_price")
        discount = _money(line.discount or ZERO, "discount")
        if discount > unit_price * line.quantity:
            raise ValidationError(_("%(line)s: the discount is larger than the line's amount.") % {"line": where})
        lines.append(
            OrderLine(
                product=line.product,
                quantity=line.quantity,
                unit_price=unit_price,
                discount=discount,
                position=position,
            )
        )
    if not lines:
        raise ValidationError(_("An order needs at least one line."))
    return lines


def _log(order: Order, *, by, summary: str, at: datetime.datetime, body: str = "") -> None:
    activity_log(
        kind=ActivityKind.ORDER,
        by=by,
        summary=summary,
        body=body,
        contact=order.contact,
        company=order.company,
        at=at,
        ref=order.ref,
    )


def _amount_text(order: Order) -> str:
    return money(order.total, order.currency)


@transaction.atomic
def order_create(
    *,
    by,
    contact: Contact,
    lines: Iterable,
    placed_at: datetime.datetime | None = None,
    channel: str = Order._meta.get_field("channel").default,
    company=None,
    currency: str | None = None,
    reference: str = "",
    note: str = "",
    paid_at: datetime.datetime | None = None,
) -> Order:
    """Record an order of a contact (for a B2B contact, of their company unless another is given).
    The total is the sum of the lines, in Decimal. With `paid_at` the order is paid at once (a
    shop sale, an import of past orders), which applies the lifecycle rules."""
    now = timezone.now()
    placed_at = placed_at or now
    if placed_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"placed_at": _("An order cannot be placed in the future.")})
    currency = _currency(currency)
    if company is None and contact.customer_type == CustomerType.B2B:
        company = contact.company
    order_lines = _order_lines(lines, currency)
    order = Order(
        contact=contact,
        company=company,
        reference=clean_text(reference)[:64],
        placed_at=placed_at,
        channel=channel,
        currency=currency,
        total=sum((line.amount for line in order_lines), ZERO),
        note=clean_text(note)[:500],
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    order.full_clean()
    order.save()
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    order_recorded(order=order, by=by, lines=order_lines)
    if paid_at is not None:
        order_mark_paid(order=order, by=by, at=paid_at)
    return order


def order_recorded(*, order: Order, by, lines: list[OrderLine] | None = None) -> None:
    """Put a new order on its contact's timeline (order_create does; so does the admin after saving the lines)."""
    if lines is None:
        lines = list(OrderLine.objects.filter(order=order).select_related("product"))
    _log(
        order,
        by=by,
        at=order.placed_at,
        summary=_("Order %(number)s placed: %(amount)s") % _texts(order),
        body=", ".join(f"{line.quantity} × {line.product.name}" for line in lines),
    )


@transaction.atomic
def order_totals_refresh(*, order: Order, by=None) -> Decimal:
    """Set an order's total to the sum of its lines less the order discount (after the admin edited
    the lines of a placed order); a discount larger than the new lines is cut to them."""
    lines_total = sum((line.amount for line in OrderLine.objects.filter(order=order)), ZERO)
    discount = min(Order.objects.values_list("discount", flat=True).get(pk=order.pk), lines_total)
    total = lines_total - discount
    Order.objects.filter(pk=order.pk).update(total=total, discount=discount, updated_at=timezone.now())
    order.total, order.discount = total, discount
    return total


@transaction.atomic
def order_discount_apply(*, order: Order, amount: Decimal, by) -> Decimal:
    """Take `amount` off an order that is not paid yet (a reward code); returns the new total."""
    order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    if order.status != OrderStatus.PLACED:
        raise ValidationError(_("Only an order that is not paid yet can get a discount."))
    lines_total = order.total + order.discount
    amount = _money(amount, "discount")
    if amount > lines_total:
        raise ValidationError(_("The discount cannot be more than the order's total."))
    Order.objects.filter(pk=order.pk).update(discount=amount, total=lines_total - amount, updated_at=timezone.now())
    return lines_total - amount


def _claim(order: Order, *, from_status: str, **changes) -> bool:
    """Move an order from one status to another, once: a conditional UPDATE, so two clicks (or
    two workers) cannot both do it."""
    moved = Order.objects.filter(pk=order.pk, status=from_status).update(updated_at=timezone.now(), **changes)
    if moved:
        for field, value in changes.items():
            setattr(order, field, value)
    return bool(moved)


@transaction.atomic
def order_mark_paid(*, order: Order, by, at: datetime.datetime | None = None) -> bool:
    """A placed order is paid: it becomes a purchase and the lifecycle rules run. False when it
    was not waiting for payment (already paid, refunded or cancelled)."""
    at = at or timezone.now()
    if at < order.placed_at:
        raise ValidationError({"paid_at": _("An order cannot be paid before it was placed.")})
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"paid_at": _("An order cannot be paid in the future.")})
    if not _claim(order, from_status=OrderStatus.PLACED, status=OrderStatus.PAID, paid_at=at):
        return False
    _log(order, by=by, at=at, summary=_("Order %(number)s paid: %(amount)s") % _texts(order))
    lifecycle.purchase_recorded(order=order, by=by)
    return True


def _texts(order: Order) -> dict:
    return {"number": order.number, "amount": _amount_text(order)}


@transaction.atomic
def order_refund(*, order: Order, by, reason: str = "", at: datetime.datetime | None = None) -> bool:
    """A paid order is refunded in full: it no longer counts as a purchase (lifecycle rules run)."""
    at = at or timezone.now()
    if not _claim(order, from_status=OrderStatus.PAID, status=OrderStatus.REFUNDED, refunded_at=at):
        return False
    _log(
        order,
        by=by,
        at=at,
        summary=_("Order %(number)s refunded: %(amount)s") % _texts(order),
        body=clean_text(reason, multiline=True),
    )
    lifecycle.refund_recorded(order=order, by=by)
    return True


@transaction.atomic
def order_cancel(*, order: Order, by, reason: str = "", at: datetime.datetime | None = None) -> bool:
    """A placed order that will not be paid is cancelled (a paid one is refunded instead)."""
    at = at or timezone.now()
    if not _claim(order, from_status=OrderStatus.PLACED, status=OrderStatus.CANCELLED, cancelled_at=at):
        return False
    _log(
        order,
        by=by,
        at=at,
        summary=_("Order %(number)s cancelled") % {"number": order.number},
        body=clean_text(reason, multiline=True),
    )
    return True
