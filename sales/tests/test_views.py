"""The sales pages: the access rule on every one, query counts, forms, escaping."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import CustomerType, Phase
from contacts.services import company_create, contact_create
from crm.testing import assert_access
from sales.models import Order, OrderStatus, ProductRelation, RelationSource
from sales.services import order_create
from sales.tests.factories import ProductFactory, paid_order

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


def person(owner, name="Sneha Kulkarni", **fields):
    return contact_create(by=owner, given_name=name, phase=Phase.ACQUISITION, **fields)


def placed_order(contact, *, at=None, **kwargs):
    return order_create(
        by=contact.owner,
        contact=contact,
        lines=[{"product": ProductFactory()}],
        placed_at=at or timezone.now(),
        **kwargs,
    )


def everyone(org):
    return [org.rep_a1, org.rep_a2, org.manager_a, org.rep_b1, org.manager_b, org.admin]


# Catalogue ------------------------------------------------------------------------------


def test_everyone_reads_the_catalogue(org):
    product = ProductFactory()
    assert_access(reverse("sales:product_list"), allowed=everyone(org))
    assert_access(product.get_absolute_url(), allowed=everyone(org))


def test_only_managers_and_admins_edit_the_catalogue(org):
    product = ProductFactory()
    for url in (reverse("sales:product_create"), reverse("sales:product_edit", args=[product.pk])):
        assert_access(url, allowed=[org.manager_a, org.admin], denied=[org.rep_a1, org.rep_b1])


def test_a_manager_adds_a_product_and_sees_a_clear_message_for_a_taken_sku(client, org):
    ProductFactory(sku="PH-1")
    client.force_login(org.manager_a)
    data = {"sku": "ph-1", "name": "Phone", "unit_price": "14999", "currency": "INR", "active": "on"}
    page = client.post(reverse("sales:product_create"), data)
    assert page.status_code == 200 and "already exists" in page.content.decode()
    response = client.post(reverse("sales:product_create"), {**data, "sku": "ph 2"})
    assert response.status_code == 302
    product = ProductFactory._meta.model.objects.get(sku="PH2")
    assert response["Location"] == product.get_absolute_url()


def test_product_list_and_page_query_counts(client, org, django_assert_max_num_queries):
    products = ProductFactory.create_batch(60)
    for other in products[1:8]:
        ProductRelation.objects.create(
            from_product=products[0], to_product=other, source=RelationSource.SUGGESTED, lift=2.0, support=0.1
        )
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("sales:product_list"))
    assert len(response.context["object_list"]) == 50
    with django_assert_max_num_queries(9):
        page = client.get(products[0].get_absolute_url()).content.decode()
    assert page.count('data-testid="suggestion"') == 7


def test_a_manager_accepts_a_suggestion_with_htmx_and_without(client, org):
    phone, case, charger = ProductFactory(), ProductFactory(name="Case"), ProductFactory()
    first = ProductRelation.objects.create(from_product=phone, to_product=case, source=RelationSource.SUGGESTED, lift=2)
    second = ProductRelation.objects.create(from_product=phone, to_product=charger, source=RelationSource.SUGGESTED)
    client.force_login(org.manager_a)

    url = reverse("sales:product_suggestion_accept", args=[phone.pk, first.pk])
    row = client.post(url, {"kind": "upsell"}, headers={"HX-Request": "true"})
    assert "Accepted as Upsell" in row.content.decode()
    dismiss = reverse("sales:product_suggestion_dismiss", args=[phone.pk, second.pk])
    assert client.post(dismiss)["Location"] == phone.get_absolute_url()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.accepted, first.kind, first.accepted_by) == (True, "upsell", org.manager_a)
    assert second.dismissed_at is not None
    page = client.get(phone.get_absolute_url()).content.decode()
    assert "Case" in page and "No suggestions waiting" in page


def test_a_rep_cannot_decide_on_suggestions(client, org):
    phone = ProductFactory()
    suggestion = ProductRelation.objects.create(
        from_product=phone, to_product=ProductFactory(), source=RelationSource.SUGGESTED
    )
    client.force_login(org.rep_a1)
    response = client.post(reverse("sales:product_suggestion_accept", args=[phone.pk, suggestion.pk]))
    assert response.status_code == 404
    assert "Accept" not in client.get(phone.get_absolute_url()).content.decode()


def test_a_manager_relates_two_products_by_hand(client, org):
    phone, case = ProductFactory(), ProductFactory(name="Screen guard")
    client.force_login(org.manager_b)
    response = client.post(
        reverse("sales:product_relation_add", args=[phone.pk]), {"to_product": case.pk, "kind": "cross_sell"}
    )
    assert response.status_code == 302
    assert ProductRelation.objects.get(from_product=phone, to_product=case).accepted
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Offered to buyers of" in page


# Orders ---------------------------------------------------------------------------------


def test_an_order_is_visible_with_its_contact(org):
    order = placed_order(person(org.rep_a1))
    assert_access(
        order.get_absolute_url(),
        allowed=[org.rep_a1, org.manager_a, org.admin],
        denied=[org.rep_a2, org.rep_b1, org.manager_b],
    )
    shared = placed_order(person(org.rep_b1))
    assert_access(shared.get_absolute_url(), allowed=[org.rep_b2, org.manager_b], denied=[org.rep_a1, org.manager_a])


def test_the_order_list_shows_only_visible_orders(client, org):
    placed_order(person(org.rep_a1, "Mine Person"))
    placed_order(person(org.rep_a2, "Theirs Person"))
    assert_access(reverse("sales:order_list"), allowed=everyone(org))
    client.force_login(org.rep_a1)
    page = client.get(reverse("sales:order_list")).content.decode()
    assert "Mine Person" in page and "Theirs Person" not in page


def test_the_order_list_pages_by_key_in_a_constant_number_of_queries(client, org, django_assert_max_num_queries):
    company = company_create(by=org.rep_a1, name="Ganga Agro Foods")
    buyer = person(org.rep_a1, company=company, customer_type=CustomerType.B2B)
    start = timezone.now() - datetime.timedelta(days=30)
    orders = [placed_order(buyer, at=start + datetime.timedelta(minutes=n // 2)) for n in range(75)]
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(7):
        first = client.get(reverse("sales:order_list"))
    page = first.context["page"]
    assert len(page.items) == 50 and page.next_cursor is not None
    with django_assert_max_num_queries(7):
        second = client.get(reverse("sales:order_list"), {"after": str(page.next_cursor)})
    shown = [order.pk for order in page.items + second.context["page"].items]
    expected = [order.pk for order in sorted(orders, key=lambda o: (o.placed_at, o.pk), reverse=True)]
    assert shown == expected  # ties on placed_at neither lost nor repeated
    assert second.context["page"].next_cursor is None
    assert client.get(reverse("sales:order_list"), {"after": "nonsense"}).status_code == 400


def test_the_order_list_filters_by_status_channel_and_day_in_the_users_time_zone(client, org):
    buyer = person(org.rep_a1, "Filter Person")
    late = placed_order(buyer, at=datetime.datetime(2025, 3, 10, 23, 30, tzinfo=IST), channel="online")
    early = paid_order(buyer, at=datetime.datetime(2025, 3, 11, 0, 30, tzinfo=IST), channel="store")
    client.force_login(org.rep_a1)

    def shown(**query):
        return {order.pk for order in client.get(reverse("sales:order_list"), query).context["page"].items}

    assert shown(status="paid") == {early.pk}
    assert shown(channel="online") == {late.pk}
    assert shown(placed_from="2025-03-11", placed_to="2025-03-11") == {early.pk}
    assert shown(placed_to="2025-03-10") == {late.pk}
    assert shown(q=early.number) == {early.pk}
    assert shown(q="filter") == {late.pk, early.pk}
    assert shown(contact=buyer.pk, status="placed") == {late.pk}


def test_the_htmx_filter_answers_only_the_rows(client, org):
    placed_order(person(org.rep_a1))
    client.force_login(org.rep_a1)
    response = client.get(reverse("sales:order_list"), {"status": "placed"}, headers={"HX-Request": "true"})
    assert b"<html" not in response.content and b'data-testid="order-table"' in response.content


def test_order_page_query_count(client, org, django_assert_max_num_queries):
    buyer = person(org.rep_a1)
    order = order_create(
        by=org.rep_a1, contact=buyer, lines=[{"product": ProductFactory()} for _ in range(12)], placed_at=timezone.now()
    )
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(7):
        page = client.get(order.get_absolute_url()).content.decode()
    assert page.count('<code class="small">SKU-') == 12


def test_a_new_order_is_only_for_a_contact_the_user_may_see(client, org):
    hidden = person(org.rep_a2, "Hidden Person")
    visible = person(org.rep_a1, "Visible Person")
    client.force_login(org.rep_a1)
    assert client.get(reverse("sales:order_create"), {"contact": hidden.pk}).status_code == 404
    assert client.post(reverse("sales:order_create") + f"?contact={hidden.pk}", {}).status_code == 404
    found = client.get(reverse("sales:order_create"), {"q": "Person"}).content.decode()
    assert "Visible Person" in found and "Hidden Person" not in found
    assert client.get(reverse("sales:order_create"), {"contact": visible.pk}).status_code == 200


def _order_post(contact, lines, **fields):
    data = {
        "contact": contact.pk,
        "placed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": "store",
        "currency": "INR",
        "reference": "",
        "note": "",
        "lines-TOTAL_FORMS": str(max(len(lines), 3)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        **fields,
    }
    for n, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{n}-{key}"] = value
    return data


def test_a_rep_enters_a_paid_shop_sale_and_the_contact_becomes_a_customer(client, org):
    buyer = person(org.rep_a1)
    phone = ProductFactory(unit_price=Decimal("14999.00"))
    case = ProductFactory(unit_price=Decimal("499.00"))
    client.force_login(org.rep_a1)
    data = _order_post(
        buyer,
        [{"product": phone.pk, "quantity": "1", "discount": "999"}, {"product": case.pk, "quantity": "2"}],
        paid="on",
        reference="<script>alert(1)</script>",
    )
    response = client.post(reverse("sales:order_create"), data)
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert (order.status, order.total, order.created_by) == (OrderStatus.PAID, Decimal("14998.00"), org.rep_a1)
    buyer.refresh_from_db()
    assert buyer.phase == Phase.RETENTION
    page = client.get(order.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "₹14,998.00" in page


def test_a_bad_order_shows_its_errors_and_saves_nothing(client, org):
    buyer = person(org.rep_a1)
    product = ProductFactory(unit_price=Decimal("100.00"))
    client.force_login(org.rep_a1)
    empty = client.post(reverse("sales:order_create"), _order_post(buyer, []))
    assert "An order needs at least one line" in empty.content.decode()
    too_much = client.post(
        reverse("sales:order_create"), _order_post(buyer, [{"product": product.pk, "quantity": "1", "discount": "500"}])
    )
    assert "the discount is larger" in too_much.content.decode()
    no_product = client.post(reverse("sales:order_create"), _order_post(buyer, [{"quantity": "3"}]))
    assert "Choose the product of this line" in no_product.content.decode()
    assert not Order.objects.exists()


def test_add_a_line_works_without_javascript(client, org):
    buyer = person(org.rep_a1)
    product = ProductFactory()
    client.force_login(org.rep_a1)
    data = _order_post(buyer, [{"product": product.pk, "quantity": "2"}], add_line="1")
    page = client.post(reverse("sales:order_create"), data)
    assert page.status_code == 200 and not Order.objects.exists()
    assert len(page.context["lines"].forms) == 4
    assert 'name="lines-0-quantity" value="2"' in page.content.decode()
    assert "invalid-feedback" not in page.content.decode()


def test_pay_refund_and_cancel_follow_the_access_rule(client, org):
    order = placed_order(person(org.rep_a1))
    for url_name in ("sales:order_pay", "sales:order_cancel", "sales:order_refund"):
        client.force_login(org.rep_a2)
        assert client.post(reverse(url_name, args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    client.force_login(org.rep_a1)
    assert client.get(reverse("sales:order_pay", args=[order.pk])).status_code == 405
    assert client.post(reverse("sales:order_pay", args=[order.pk]))["Location"] == order.get_absolute_url()
    client.post(reverse("sales:order_refund", args=[order.pk]), {"reason": "Faulty"})
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Mark paid" not in page and "Refund</button>" not in page


def test_a_second_click_on_pay_says_it_is_paid_already(client, org):
    order = placed_order(person(org.rep_a1))
    client.force_login(org.rep_a1)
    client.post(reverse("sales:order_pay", args=[order.pk]))
    page = client.post(reverse("sales:order_pay", args=[order.pk]), follow=True).content.decode()
    assert "only a placed order can be paid" in page


# The panels on the contact and company pages -----------------------------------------------


def test_the_contact_page_shows_orders_and_lifetime_revenue(client, org, django_assert_max_num_queries):
    buyer = person(org.rep_a1)
    product = ProductFactory(unit_price=Decimal("125000.00"))
    for day in range(12):
        paid_order(buyer, product, at=timezone.now() - datetime.timedelta(days=day + 1))
    placed_order(buyer)
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(30):
        page = client.get(buyer.get_absolute_url()).content.decode()
    assert 'data-testid="orders-panel"' in page
    assert "₹15,00,000.00" in page and "12 paid orders" in page
    assert page.count('data-testid="order-status"') == 10


def test_the_company_page_shows_only_orders_of_people_the_user_may_see(client, org):
    company = company_create(by=org.rep_b1, name="Deccan Software Labs")
    seen = person(org.rep_b1, "Seen Buyer", company=company, customer_type=CustomerType.B2B)
    unseen = person(org.rep_a1, "Unseen Buyer", company=company, customer_type=CustomerType.B2B)
    paid_order(seen, ProductFactory(unit_price=Decimal("100.00")), at=timezone.now())
    paid_order(unseen, ProductFactory(unit_price=Decimal("900.00")), at=timezone.now())
    client.force_login(org.rep_b2)
    page = client.get(company.get_absolute_url()).content.decode()
    assert "Seen Buyer" in page and "Unseen Buyer" not in page
    assert "₹100.00" in page and "₹900.00" not in page


def test_the_navigation_has_orders_and_products(client, org):
    client.force_login(org.rep_a1)
    items = {item["key"]: item for item in client.get(reverse("sales:product_list")).context["nav_items"]}
    assert items["products"]["active"] and not items["orders"]["active"]
    assert items["orders"]["url"] == reverse("sales:order_list")


def test_links_and_forms_carry_ids_without_digit_grouping(client, org):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('contacts_contact', 'id'), 1234566)")
    buyer = person(org.rep_a1)
    assert buyer.pk == 1234567
    paid_order(buyer, at=timezone.now())
    client.force_login(org.rep_a1)
    panel = client.get(buyer.get_absolute_url()).content.decode()
    assert f"?contact={buyer.pk}" in panel and "1,234,567" not in panel
    form = client.get(reverse("sales:order_create"), {"contact": buyer.pk}).content.decode()
    assert f'action="{reverse("sales:order_create")}?contact={buyer.pk}"' in form
    assert f'name="contact" value="{buyer.pk}"' in form
