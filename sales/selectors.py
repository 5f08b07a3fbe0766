"""Reads of the sales app. Orders start from what the user may see (an order is visible with
its contact); the catalogue is the same for everyone."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from contacts.models import Company, Contact
from contacts.paging import TimeCursor, TimePage, newest_first
from sales.models import Order, OrderLine, Product, ProductRelation

ORDER_PAGE_SIZE = 50
PANEL_ORDERS = 10


# Catalogue ------------------------------------------------------------------------------


def product_list() -> QuerySet[Product]:
    return Product.objects.all()


def product_search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(name__icontains=text) | Q(sku__icontains=text.replace(" ", "").upper()))


def product_categories() -> list[str]:
    return list(Product.objects.exclude(category="").values_list("category", flat=True).distinct().order_by("category"))


def product_relations(*, product: Product) -> dict[str, list[ProductRelation]]:
    """The product page: what its buyers are offered, what it is offered with, and the pending
    suggestions (best lift first), in one query."""
    rows = (
        ProductRelation.objects.filter(Q(from_product=product) | Q(to_product=product, accepted=True))
        .filter(Q(accepted=True) | Q(dismissed_at__isnull=True))
        .select_related("from_product", "to_product", "accepted_by")
        .order_by("-accepted", "-lift", "id")
    )
    result = {"offered": [], "offered_with": [], "suggested": []}
    for relation in rows:
        if relation.to_product_id == product.pk:
            result["offered_with"].append(relation)
        elif relation.accepted:
            result["offered"].append(relation)
        else:
            result["suggested"].append(relation)
    return result


# Orders ---------------------------------------------------------------------------------


def order_list(*, user) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("contact", "company")


def order_detail(*, user) -> QuerySet[Order]:
    lines = OrderLine.objects.select_related("product").order_by("position", "id")
    return order_list(user=user).select_related("created_by").prefetch_related(Prefetch("lines", queryset=lines))


def order_page(queryset: QuerySet[Order], *, after: TimeCursor | None = None, size: int = ORDER_PAGE_SIZE) -> TimePage:
    """Newest first by (placed_at, id), never OFFSET (index order_placed_idx)."""
    return newest_first(queryset, time_field="placed_at", after=after, size=size)


@dataclass
class Revenue:
    currency: str
    amount: Decimal
    orders: int


def _revenue(orders: QuerySet[Order]) -> list[Revenue]:
    rows = orders.purchases().values("currency").annotate(amount=Sum("total"), n=Count("id")).order_by("currency")
    return [Revenue(currency=row["currency"], amount=row["amount"], orders=row["n"]) for row in rows]


def contact_orders(*, contact: Contact, limit: int = PANEL_ORDERS) -> dict:
    """The orders panel of a contact (who may be seen, so all their orders may): the latest
    orders and the lifetime revenue per currency (paid orders; refunds do not count)."""
    orders = Order.objects.filter(contact=contact)
    return {
        "orders": list(orders.order_by("-placed_at", "-id")[:limit]),
        "revenue": _revenue(orders),
    }


def company_orders(*, user, company: Company, limit: int = PANEL_ORDERS) -> dict:
    """The orders panel of a company: its orders whose contact the user may see."""
    orders = Order.objects.visible_to(user).filter(company=company)
    return {
        "orders": list(orders.select_related("contact").order_by("-placed_at", "-id")[:limit]),
        "revenue": _revenue(orders),
    }
