import datetime
from decimal import Decimal

import factory

from sales.models import Product
from sales.services import order_create


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "Phones"
    unit_price = Decimal("1000.00")


def paid_order(contact, *products, at: datetime.datetime, by=None, **kwargs):
    """An order of one of each product, placed and paid at `at`, through the real service."""
    products = products or (ProductFactory(),)
    return order_create(
        by=by or contact.owner,
        contact=contact,
        lines=[{"product": product} for product in products],
        placed_at=at,
        paid_at=at,
        **kwargs,
    )
