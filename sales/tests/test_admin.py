"""The sales admin: its pages open; orders entered there get their total, timeline and lifecycle."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.utils import timezone

from contacts.models import Activity, ActivityKind, Phase
from contacts.services import contact_create
from sales.models import Order, OrderLine, OrderStatus, Product, ProductRelation, RelationSource
from sales.tests.factories import ProductFactory, paid_order

pytestmark = pytest.mark.django_db


def test_every_product_and_order_model_is_in_the_admin():
    inlined = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    assert {Product, ProductRelation, Order, OrderLine} <= set(admin.site._registry) | inlined


def test_sales_admin_pages_open(client, org):
    buyer = contact_create(by=org.rep_a1, given_name="Admin Buyer", phase=Phase.ACQUISITION)
    phone, case = ProductFactory(), ProductFactory()
    relation = ProductRelation.objects.create(from_product=phone, to_product=case, source=RelationSource.SUGGESTED)
    order = paid_order(buyer, phone, at=timezone.now())
    client.force_login(org.admin)
    for base, obj in (
        ("/admin/sales/product/", phone),
        ("/admin/sales/productrelation/", relation),
        ("/admin/sales/order/", order),
    ):
        assert client.get(base).status_code == 200, base
        assert client.get(base, {"q": "SO-1"}).status_code == 200, base
        assert client.get(f"{base}add/").status_code == 200, base
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, base
    assert client.get("/admin/sales/orderimport/").status_code == 200


def test_an_order_added_in_the_admin_gets_its_total_and_timeline_and_is_paid_by_an_action(client, org):
    buyer = contact_create(by=org.rep_a1, given_name="Admin Buyer", phase=Phase.ACQUISITION)
    product = ProductFactory(unit_price=Decimal("250.00"))
    client.force_login(org.admin)
    now = timezone.localtime()
    data = {
        "contact": buyer.pk,
        "company": "",
        "reference": "",
        "placed_at_0": now.strftime("%Y-%m-%d"),
        "placed_at_1": now.strftime("%H:%M:%S"),
        "channel": "phone",
        "currency": "INR",
        "note": "",
        "created_at_0": now.strftime("%Y-%m-%d"),
        "created_at_1": now.strftime("%H:%M:%S"),
        "updated_at_0": now.strftime("%Y-%m-%d"),
        "updated_at_1": now.strftime("%H:%M:%S"),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": product.pk,
        "lines-0-quantity": "3",
        "lines-0-unit_price": "250.00",
        "lines-0-discount": "50.00",
        "lines-0-position": "1",
    }
    response = client.post("/admin/sales/order/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert (order.total, order.created_by, order.status) == (Decimal("700.00"), org.admin, OrderStatus.PLACED)
    assert Activity.objects.filter(kind=ActivityKind.ORDER, ref=order.ref).count() == 1

    client.post("/admin/sales/order/", {"action": "mark_paid", "_selected_action": [order.pk]})
    order.refresh_from_db()
    buyer.refresh_from_db()
    assert order.status == OrderStatus.PAID and buyer.phase == Phase.RETENTION
