"""The sales services: the catalogue, relations, orders with exact totals, and order status changes."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Activity, ActivityKind, CustomerType, Phase
from contacts.services import company_create, contact_create
from sales import services
from sales.models import Order, OrderLine, OrderStatus, Product, ProductRelation, RelationKind, RelationSource
from sales.tests.factories import ProductFactory, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org):
    return contact_create(by=org.rep_a1, given_name="Rahul", family_name="Verma", phase=Phase.ACQUISITION)


# Catalogue ------------------------------------------------------------------------------


def test_product_sku_is_stored_in_capitals_without_spaces(org):
    product = services.product_create(
        by=org.admin, sku=" ph 12-a ", name="  Phone  ", unit_price="14999", currency="inr"
    )
    assert (product.sku, product.name, product.unit_price, product.currency) == (
        "PH12-A",
        "Phone",
        Decimal("14999.00"),
        "INR",
    )


def test_product_sku_is_unique_whatever_its_spelling(org):
    services.product_create(by=org.admin, sku="PH-1", name="Phone", unit_price=1)
    with pytest.raises(ValidationError) as error:
        services.product_create(by=org.admin, sku="ph-1", name="Other phone", unit_price=1)
    assert "sku" in error.value.error_dict


@pytest.mark.parametrize(("field", "value"), [("unit_price", "-1"), ("unit_price", "abc"), ("currency", "RUPEES")])
def test_product_rejects_bad_prices_and_currencies(org, field, value):
    data = {"sku": "X1", "name": "X", "unit_price": "10", field: value}
    with pytest.raises(ValidationError):
        services.product_create(by=org.admin, **data)
    assert not Product.objects.exists()


def test_product_update_returns_only_what_changed(org):
    product = ProductFactory(unit_price=Decimal("10.00"))
    changes = services.product_update(product=product, by=org.admin, unit_price="12.5", name=product.name)
    assert changes == {"unit_price": (Decimal("10.00"), Decimal("12.50"))}
    product.refresh_from_db()
    assert product.unit_price == Decimal("12.50")


def test_a_relation_set_by_hand_is_accepted_and_takes_over_a_suggestion(org):
    phone, case = ProductFactory(), ProductFactory()
    suggestion = ProductRelation.objects.create(
        from_product=phone, to_product=case, source=RelationSource.SUGGESTED, lift=2.5
    )
    relation = services.product_relation_set(
        from_product=phone, to_product=case, kind=RelationKind.UPSELL, by=org.admin
    )
    assert relation.pk == suggestion.pk
    assert (relation.accepted, relation.kind, relation.lift, relation.accepted_by) == (True, "upsell", 2.5, org.admin)


def test_a_product_is_not_related_to_itself(org):
    phone = ProductFactory()
    with pytest.raises(ValidationError):
        services.product_relation_set(from_product=phone, to_product=phone, kind=RelationKind.CROSS_SELL, by=org.admin)


def test_a_suggestion_is_decided_once(org):
    suggestion = ProductRelation.objects.create(
        from_product=ProductFactory(), to_product=ProductFactory(), source=RelationSource.SUGGESTED
    )
    assert services.product_relation_accept(relation=suggestion, by=org.admin, kind=RelationKind.UPSELL) is True
    assert services.product_relation_accept(relation=suggestion, by=org.admin) is False
    assert services.product_relation_dismiss(relation=suggestion, by=org.admin) is False
    suggestion.refresh_from_db()
    assert (suggestion.accepted, suggestion.kind, suggestion.dismissed_at) == (True, "upsell", None)


def test_removing_a_suggested_relation_keeps_it_dismissed_and_a_manual_one_goes(org):
    suggested = ProductRelation.objects.create(
        from_product=ProductFactory(), to_product=ProductFactory(), source=RelationSource.SUGGESTED, accepted=True
    )
    manual = services.product_relation_set(
        from_product=ProductFactory(), to_product=ProductFactory(), kind=RelationKind.CROSS_SELL, by=org.admin
    )
    services.product_relation_remove(relation=suggested, by=org.admin)
    services.product_relation_remove(relation=manual, by=org.admin)
    suggested.refresh_from_db()
    assert not suggested.accepted and suggested.dismissed_at is not None
    assert not ProductRelation.objects.filter(pk=manual.pk).exists()


# Orders ---------------------------------------------------------------------------------


def test_the_total_is_the_exact_decimal_sum_of_the_lines(contact):
    phone = ProductFactory(unit_price=Decimal("14999.00"))
    cable = ProductFactory(unit_price=Decimal("0.10"))
    order = services.order_create(
        by=contact.owner,
        contact=contact,
        lines=[
            {"product": phone, "quantity": 1, "discount": "1000"},
            {"product": cable, "quantity": 3},  # 0.1 + 0.1 + 0.1 is not 0.3 in floats
            # a price is rounded to the paisa (half up) before it is multiplied
            {"product": cable, "quantity": 3, "unit_price": "333.335"},
        ],
    )
    order.refresh_from_db()
    assert order.total == Decimal("14999.32")
    assert [line.amount for line in OrderLine.objects.filter(order=order)] == [
        Decimal("13999.00"),
        Decimal("0.30"),
        Decimal("1000.02"),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([{"quantity": 0}], "whole number"),
        ([{"discount": "1000.01"}], "discount is larger"),
        ([{"unit_price": "-5"}], "cannot be negative"),
    ],
)
def test_a_bad_order_is_refused_and_leaves_nothing_behind(contact, lines, message):
    product = ProductFactory(unit_price=Decimal("1000.00"))
    with pytest.raises(ValidationError) as error:
        services.order_create(by=contact.owner, contact=contact, lines=[{"product": product, **line} for line in lines])
    assert message in " ".join(error.value.messages)
    assert not Order.objects.exists() and not Activity.objects.filter(kind=ActivityKind.ORDER).exists()


def test_a_line_priced_in_another_currency_needs_its_price(contact):
    dollars = ProductFactory(currency="USD", unit_price=Decimal("10.00"))
    with pytest.raises(ValidationError, match="priced in USD"):
        services.order_create(by=contact.owner, contact=contact, lines=[{"product": dollars}])
    order = services.order_create(
        by=contact.owner, contact=contact, lines=[{"product": dollars, "unit_price": "830"}], currency="INR"
    )
    assert (order.currency, order.total) == ("INR", Decimal("830.00"))


def test_an_order_cannot_be_placed_in_the_future(contact):
    with pytest.raises(ValidationError) as error:
        services.order_create(
            by=contact.owner,
            contact=contact,
            lines=[{"product": ProductFactory()}],
            placed_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert "placed_at" in error.value.error_dict


def test_two_orders_cannot_share_a_reference(contact):
    services.order_create(by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}], reference="WEB-1")
    with pytest.raises(ValidationError, match="Another order has this reference"):
        services.order_create(
            by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}], reference="WEB-1"
        )


def test_a_b2b_order_belongs_to_the_contacts_company(org):
    company = company_create(by=org.rep_a1, name="Kaveri Logistics")
    buyer = contact_create(by=org.rep_a1, given_name="Asha", company=company, customer_type=CustomerType.B2B)
    consumer = contact_create(by=org.rep_a1, given_name="Ravi", company=company, customer_type=CustomerType.B2C)
    assert services.order_create(by=org.rep_a1, contact=buyer, lines=[{"product": ProductFactory()}]).company == company
    assert services.order_create(by=org.rep_a1, contact=consumer, lines=[{"product": ProductFactory()}]).company is None


def test_an_order_and_each_status_change_are_on_the_timeline(contact):
    order = services.order_create(
        by=contact.owner,
        contact=contact,
        lines=[{"product": ProductFactory(name="Phone", unit_price=Decimal("123456.50")), "quantity": 2}],
    )
    services.order_mark_paid(order=order, by=contact.owner)
    services.order_refund(order=order, by=contact.owner, reason="Changed their mind")
    items = list(Activity.objects.filter(contact=contact, kind=ActivityKind.ORDER).order_by("id"))
    assert [item.summary for item in items] == [
        f"Order {order.number} placed: ₹2,46,913.00",
        f"Order {order.number} paid: ₹2,46,913.00",
        f"Order {order.number} refunded: ₹2,46,913.00",
    ]
    assert items[0].body == "2 × Phone" and items[2].body == "Changed their mind"
    assert {item.ref for item in items} == {f"sales.order:{order.pk}"}


def test_status_changes_happen_once_and_only_from_the_right_status(contact):
    order = services.order_create(by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}])
    assert services.order_refund(order=order, by=contact.owner) is False  # not paid yet
    assert services.order_mark_paid(order=order, by=contact.owner) is True
    assert services.order_mark_paid(order=order, by=contact.owner) is False
    assert services.order_cancel(order=order, by=contact.owner) is False  # paid: refund it instead
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None


def test_a_stale_copy_of_an_order_cannot_pay_it_twice(contact):
    order = services.order_create(by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}])
    stale = Order.objects.get(pk=order.pk)
    assert services.order_mark_paid(order=order, by=contact.owner) is True
    assert services.order_mark_paid(order=stale, by=contact.owner) is False
    assert Activity.objects.filter(kind=ActivityKind.ORDER, summary__contains="paid").count() == 1


def test_an_order_cannot_be_paid_before_it_was_placed(contact):
    placed = timezone.now() - datetime.timedelta(hours=1)
    order = services.order_create(
        by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}], placed_at=placed
    )
    with pytest.raises(ValidationError):
        services.order_mark_paid(order=order, by=contact.owner, at=placed - datetime.timedelta(minutes=1))


def test_a_cancelled_order_moves_nothing(contact):
    order = services.order_create(by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}])
    assert services.order_cancel(order=order, by=contact.owner, reason="Out of stock") is True
    contact.refresh_from_db()
    assert contact.phase == Phase.ACQUISITION
    assert services.order_mark_paid(order=order, by=contact.owner) is False


def test_the_database_refuses_a_paid_order_without_a_payment_time(contact):
    order = services.order_create(by=contact.owner, contact=contact, lines=[{"product": ProductFactory()}])
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)


def test_a_contact_with_orders_cannot_be_deleted(contact):
    from django.db.models import ProtectedError

    paid_order(contact, at=timezone.now())
    with pytest.raises(ProtectedError):
        contact.delete()


def test_merging_two_contacts_keeps_the_orders_of_both(org, contact):
    from contacts.merge import contact_merge

    twin = contact_create(by=org.rep_a1, given_name="Rahul", family_name="Verma", phase=Phase.ACQUISITION)
    paid_order(contact, at=timezone.now())
    paid_order(twin, at=timezone.now())
    contact_merge(keep=contact, others=[twin], by=org.rep_a1)
    assert Order.objects.filter(contact=contact).count() == 2
