"""The pipeline: deals, their stage history, winning (with the order) and losing, who may move a
deal, the board and the list (the access rule on every page, query counts), the admin."""

import datetime
import urllib.parse
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity, ActivityKind, CustomerType
from contacts.services import company_create, contact_create
from crm.testing import assert_access
from sales import pipeline
from sales.models import Deal, DealStageChange, DealStatus, OrderStatus, Stage, StageKind
from sales.pipeline import deal_create, deal_lose, deal_move, deal_order_create, deal_update, deal_win
from sales.tests.factories import ProductFactory
from sales.tests.factories_deals import make_deal, make_pipeline

pytestmark = pytest.mark.django_db

KANBAN = {"HTTP_X_KANBAN": "1"}


@pytest.fixture
def board(db):
    return make_pipeline("Enterprise")


def deal_items(deal):
    return list(Activity.objects.filter(ref=deal.ref, kind=ActivityKind.DEAL).order_by("at", "id"))


def history(deal):
    return [
        (change.from_stage.name if change.from_stage else None, change.to_stage.name, change.by)
        for change in DealStageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage", "by")
    ]


# Services --------------------------------------------------------------------------------


def test_a_new_deal_starts_in_its_stage_with_its_first_history_row_and_a_timeline_item(org, board):
    company = company_create(by=org.rep_a1, name="Ganga Agro")
    contact = contact_create(by=org.rep_a1, given_name="Ravi", company=company)
    phone = ProductFactory(name="Phone")
    deal = deal_create(
        by=org.rep_a1,
        contact=contact,
        name="  Forty phones ",
        stage=board.stage("Lead"),
        amount="599960.004",
        products=[phone],
    )
    deal.refresh_from_db()
    assert (deal.name, deal.owner, deal.company, deal.pipeline) == ("Forty phones", org.rep_a1, company, board.pipeline)
    assert (deal.amount, deal.currency, deal.status) == (Decimal("599960.00"), "INR", DealStatus.OPEN)
    assert list(deal.products.all()) == [phone]
    assert history(deal) == [(None, "Lead", org.rep_a1)]
    [item] = deal_items(deal)
    assert item.contact == contact and item.company == company
    assert "Forty phones" in item.summary and "5,99,960.00" in item.summary


def test_a_deal_cannot_start_won_and_its_name_is_required(org, board):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    with pytest.raises(ValidationError) as error:
        deal_create(by=org.rep_a1, contact=contact, name="Done", stage=board.stage("Won"))
    assert "stage" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        deal_create(by=org.rep_a1, contact=contact, name="  ", stage=board.stage("Lead"))
    assert "name" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        deal_create(by=org.rep_a1, contact=contact, name="Minus", stage=board.stage("Lead"), amount="-1")
    assert "amount" in error.value.error_dict
    assert not Deal.objects.exists()


def test_every_move_is_recorded_with_its_time_and_author(org, board):
    deal = make_deal(org.rep_a1, board, at=timezone.now() - datetime.timedelta(days=5))
    monday = timezone.now() - datetime.timedelta(days=3)
    assert deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Proposal"), at=monday)
    assert deal_move(deal=deal, by=org.manager_a, stage=board.stage("Negotiation"))
    assert not deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Negotiation"))
    assert history(deal) == [
        (None, "Lead", org.rep_a1),
        ("Lead", "Proposal", org.rep_a1),
        ("Proposal", "Negotiation", org.manager_a),
    ]
    assert DealStageChange.objects.filter(deal=deal, to_stage=board.stage("Proposal")).get().at == monday
    deal.refresh_from_db()
    assert deal.stage == board.stage("Negotiation") and deal.stage_entered_at > monday
    assert [item.summary for item in deal_items(deal)][1:] == [
        f"Deal {deal.name} moved to Proposal",
        f"Deal {deal.name} moved to Negotiation",
    ]


def test_a_won_stage_wins_the_deal_and_an_open_one_reopens_it(org, board):
    deal = make_deal(org.rep_a1, board)
    deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Won"))
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON and deal.won_at is not None
    deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Proposal"))
    deal.refresh_from_db()
    assert (deal.status, deal.won_at, deal.lost_at) == (DealStatus.OPEN, None, None)
    assert deal_items(deal)[-1].summary == f"Deal reopened: {deal.name}, in Proposal"


def test_losing_needs_a_reason_and_nothing_changes_without_one(org, board):
    deal = make_deal(org.rep_a1, board)
    with pytest.raises(ValidationError) as error:
        deal_lose(deal=deal, by=org.rep_a1, reason="   ")
    assert "lost_reason" in error.value.error_dict
    with pytest.raises(ValidationError):
        deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Lost"))
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and len(history(deal)) == 1

    assert deal_lose(deal=deal, by=org.rep_a1, reason="Went with a cheaper vendor")
    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.lost_reason) == (
        DealStatus.LOST,
        board.stage("Lost"),
        "Went with a cheaper vendor",
    )
    assert deal.lost_at is not None and deal.won_at is None
    assert deal_items(deal)[-1].body == "Went with a cheaper vendor"


def test_winning_with_the_order_makes_it_from_the_deals_products_at_their_prices(org, board):
    company = company_create(by=org.rep_a1, name="Ganga Agro")
    contact = contact_create(by=org.rep_a1, given_name="Ravi", company=company, customer_type=CustomerType.B2B)
    phone = ProductFactory(name="Phone", unit_price=Decimal("14999.00"))
    case = ProductFactory(name="Case", unit_price=Decimal("499.50"))
    deal = make_deal(org.rep_a1, board, contact=contact, products=[phone, case], amount="15000")

    order = deal_win(deal=deal, by=org.rep_a1, create_order=True)

    deal.refresh_from_db()
    assert deal.status == DealStatus.WON and deal.stage == board.stage("Won") and deal.order == order
    assert (order.contact, order.company, order.currency, order.status) == (contact, company, "INR", OrderStatus.PLACED)
    lines = [(line.product, line.quantity, line.unit_price) for line in order.lines.order_by("position")]
    assert lines == [(case, 1, Decimal("499.50")), (phone, 1, Decimal("14999.00"))]
    assert order.total == Decimal("15498.50")
    assert history(deal)[-1] == ("Lead", "Won", org.rep_a1)
    kinds = set(Activity.objects.filter(contact=contact).values_list("kind", flat=True))
    assert {ActivityKind.DEAL, ActivityKind.ORDER} <= kinds

    with pytest.raises(ValidationError, match="exists already"):
        deal_order_create(deal=deal, by=org.rep_a1)
    assert contact.orders.count() == 1


def test_a_won_deal_makes_its_order_later_and_then_cannot_be_reopened(org, board):
    deal = make_deal(org.rep_a1, board, products=[ProductFactory()])
    assert deal_win(deal=deal, by=org.rep_a1) is None
    order = deal_win(deal=deal, by=org.rep_a1, create_order=True)
    assert order is not None and len(history(deal)) == 2
    with pytest.raises(ValidationError, match="cannot be reopened"):
        deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Lead"))
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON


def test_a_deal_without_products_is_not_won_when_its_order_cannot_be_made(org, board):
    deal = make_deal(org.rep_a1, board)
    with pytest.raises(ValidationError, match="Add the products"):
        deal_win(deal=deal, by=org.rep_a1, create_order=True)
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and deal.stage == board.stage("Lead")
    assert len(history(deal)) == 1 and len(deal_items(deal)) == 1


def test_a_product_in_another_currency_stops_the_order_and_the_win(org, board):
    deal = make_deal(org.rep_a1, board, products=[ProductFactory(currency="USD")])
    with pytest.raises(ValidationError, match="USD"):
        deal_win(deal=deal, by=org.rep_a1, create_order=True)
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and deal.order is None


def test_a_stage_of_another_pipeline_is_refused(org, board):
    other = make_pipeline("Renewals")
    deal = make_deal(org.rep_a1, board)
    with pytest.raises(ValidationError, match="another pipeline"):
        deal_move(deal=deal, by=org.rep_a1, stage=other.stage("Proposal"))


def test_the_owner_their_manager_and_an_admin_move_a_deal(org, board):
    deal = make_deal(org.rep_a1, board)
    for user, stage in ((org.rep_a1, "Proposal"), (org.manager_a, "Negotiation"), (org.admin, "Lead")):
        assert deal_move(deal=deal, by=user, stage=board.stage(stage))


@pytest.mark.parametrize("who", ["rep_b2", "rep_a1", "manager_a", "rep_b1"])
def test_anyone_else_may_not_move_win_lose_or_edit_a_deal_and_nothing_changes(org, board, who):
    owner = org.rep_b2 if who == "rep_b1" else org.rep_b1
    deal = make_deal(owner, board, products=[ProductFactory()])
    user = getattr(org, who)
    with pytest.raises(PermissionDenied):
        deal_move(deal=deal, by=user, stage=board.stage("Proposal"))
    with pytest.raises(PermissionDenied):
        deal_win(deal=deal, by=user, create_order=True)
    with pytest.raises(PermissionDenied):
        deal_lose(deal=deal, by=user, reason="No budget")
    with pytest.raises(PermissionDenied):
        deal_update(deal=deal, by=user, amount="1")
    deal.refresh_from_db()
    assert (deal.stage, deal.status, deal.amount, deal.order) == (
        board.stage("Lead"),
        DealStatus.OPEN,
        Decimal("100000.00"),
        None,
    )
    assert len(history(deal)) == 1 and len(deal_items(deal)) == 1


def test_a_rep_gives_a_deal_only_to_themselves_and_a_manager_to_their_team(org, board):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    with pytest.raises(ValidationError) as error:
        deal_create(by=org.rep_a1, owner=org.rep_a2, contact=contact, name="X", stage=board.stage("Lead"))
    assert "owner" in error.value.error_dict
    deal = deal_create(by=org.manager_a, owner=org.rep_a2, contact=contact, name="X", stage=board.stage("Lead"))
    assert deal.owner == org.rep_a2
    with pytest.raises(ValidationError):
        deal_update(deal=deal, by=org.manager_a, owner=org.rep_b1)
    deal_update(deal=deal, by=org.admin, owner=org.rep_b1)
    deal.refresh_from_db()
    assert deal.owner == org.rep_b1


def test_an_update_changes_only_what_differs_and_says_so_on_the_timeline(org, board):
    deal = make_deal(org.rep_a1, board)
    phone = ProductFactory()
    changes = deal_update(
        deal=deal, by=org.rep_a1, name=deal.name, amount="250000", expected_close_date=datetime.date(2027, 3, 31)
    )
    assert set(changes) == {"amount", "expected_close_date"}
    assert deal_update(deal=deal, by=org.rep_a1, products=[phone]) == {"products": (set(), {phone.pk})}
    assert deal_update(deal=deal, by=org.rep_a1, products=[phone]) == {}
    deal.refresh_from_db()
    assert deal.amount == Decimal("250000.00") and list(deal.products.all()) == [phone]
    assert len(deal_items(deal)) == 3


# The board --------------------------------------------------------------------------------


def everyone(org):
    return [org.rep_a1, org.rep_a2, org.manager_a, org.rep_b1, org.rep_b2, org.manager_b, org.admin]


def test_everyone_signed_in_opens_the_board_and_the_list(org, board):
    for url in (reverse("sales:deal_board"), board.pipeline.get_absolute_url(), reverse("sales:deal_list")):
        assert_access(url, allowed=everyone(org))


def test_the_board_shows_only_the_deals_the_user_may_see(client, org, board):
    mine = make_deal(org.rep_a1, board, name="Mine")
    make_deal(org.rep_a2, board, name="Not mine")
    colleague = make_deal(org.rep_b2, board, name="Colleague's")
    client.force_login(org.rep_a1)
    page = client.get(board.pipeline.get_absolute_url()).content.decode()
    assert "Mine" in page and "Not mine" not in page
    assert f'data-deal="{mine.pk}"' in page and 'draggable="true"' in page
    client.force_login(org.rep_b1)
    page = client.get(board.pipeline.get_absolute_url()).content.decode()
    # A colleague's deal in a sharing team: seen, not draggable.
    assert f'data-deal="{colleague.pk}"' in page and 'draggable="true"' not in page


def test_the_board_totals_count_sum_and_weight_each_column(client, org, board):
    make_deal(org.rep_a1, board, stage="Proposal", amount="100000")
    make_deal(org.rep_a1, board, stage="Proposal", amount="50000.50")
    lost = make_deal(org.rep_a1, board)
    deal_lose(deal=lost, by=org.rep_a1, reason="No budget")
    columns = {column.stage.name: column for column in pipeline.deal_board(user=org.rep_a1, pipeline=board.pipeline)}
    proposal = columns["Proposal"]
    assert (proposal.count, len(proposal.deals)) == (2, 2)
    [total] = proposal.totals
    assert (total.currency, total.amount, total.weighted) == ("INR", Decimal("150000.50"), Decimal("75000.25"))
    assert columns["Lead"].count == 0 and columns["Lost"].count == 1


def test_won_and_lost_columns_show_only_recently_closed_deals(org, board):
    old = make_deal(org.rep_a1, board)
    deal_win(deal=old, by=org.rep_a1, at=timezone.now() - datetime.timedelta(days=pipeline.BOARD_CLOSED_DAYS + 1))
    recent = make_deal(org.rep_a1, board)
    deal_win(deal=recent, by=org.rep_a1)
    columns = {column.stage.name: column for column in pipeline.deal_board(user=org.rep_a1, pipeline=board.pipeline)}
    assert [deal.pk for deal in columns["Won"].deals] == [recent.pk]


def test_the_board_of_five_thousand_open_deals_takes_a_fixed_number_of_queries(client, org, board):
    contact = contact_create(by=org.rep_a1, given_name="Big client")
    now = timezone.now()
    stages = [board.stage("Lead"), board.stage("Proposal"), board.stage("Negotiation")]
    Deal.objects.bulk_create(
        Deal(
            name=f"Deal {n}",
            contact=contact,
            owner=org.rep_a1 if n % 2 else org.rep_a2,
            amount=Decimal(1000 + n),
            pipeline=board.pipeline,
            stage=stages[n % 3],
            updated_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(5000)
    )
    client.force_login(org.manager_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(board.pipeline.get_absolute_url())
    assert page.status_code == 200
    assert len(queries) <= 8, [query["sql"] for query in queries]
    columns = {column.stage.name: column for column in page.context["columns"]}
    lead = columns["Lead"]
    assert lead.count == 1667 and len(lead.deals) == pipeline.BOARD_CARDS_PER_STAGE
    assert lead.deals[0].name == "Deal 0"  # the most recently changed first
    assert sum(column.count for column in columns.values()) == 5000
    assert page.content.decode().count('data-testid="deal-card"') == 3 * pipeline.BOARD_CARDS_PER_STAGE
    assert "and 1,567 more in the list" in page.content.decode()


def test_a_card_dropped_on_another_column_answers_the_card_and_every_columns_totals(client, org, board):
    deal = make_deal(org.rep_a1, board, amount="200000")
    client.force_login(org.rep_a1)
    answer = client.post(reverse("sales:deal_move", args=[deal.pk]), {"stage": board.stage("Negotiation").pk}, **KANBAN)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "data-moved-card" in html and f'data-deal="{deal.pk}"' in html
    for stage in board.stages.values():
        assert f'data-column-summary="{stage.pk}"' in html
    assert "₹1,60,000.00" in html  # Negotiation's weighted sum: 80 % of 2,00,000
    deal.refresh_from_db()
    assert deal.stage == board.stage("Negotiation")


@pytest.mark.parametrize("who", ["rep_b2", "manager_a"])
def test_a_move_on_the_board_by_a_user_who_does_not_own_the_deal_is_refused_and_nothing_changes(
    client, org, board, who
):
    deal = make_deal(org.rep_b1, board)
    client.force_login(getattr(org, who))
    answer = client.post(reverse("sales:deal_move", args=[deal.pk]), {"stage": board.stage("Proposal").pk}, **KANBAN)
    if who == "rep_b2":
        # A colleague of a sharing team sees the deal: told why, in plain text.
        assert answer.status_code == 403
        assert answer["Content-Type"].startswith("text/plain")
        assert "Only the deal's owner" in answer.content.decode()
    else:
        assert answer.status_code == 404
    deal.refresh_from_db()
    assert deal.stage == board.stage("Lead") and len(history(deal)) == 1 and len(deal_items(deal)) == 1


def test_a_move_to_a_stage_of_another_pipeline_or_a_lost_one_without_reason_is_refused_on_the_board(client, org, board):
    deal = make_deal(org.rep_a1, board)
    other = make_pipeline("Renewals")
    client.force_login(org.rep_a1)
    url = reverse("sales:deal_move", args=[deal.pk])
    assert client.post(url, {"stage": other.stage("Proposal").pk}, **KANBAN).status_code == 400
    answer = client.post(url, {"stage": board.stage("Lost").pk}, **KANBAN)
    assert answer.status_code == 400 and "Say why" in answer.content.decode()
    deal.refresh_from_db()
    assert deal.stage == board.stage("Lead")


def test_without_javascript_the_deal_page_moves_the_deal(client, org, board):
    deal = make_deal(org.rep_a1, board)
    client.force_login(org.rep_a1)
    url = reverse("sales:deal_move", args=[deal.pk])
    page = client.post(url, {"stage": board.stage("Lost").pk, "lost_reason": ""})
    assert page.status_code == 400 and "Say why the deal was lost." in page.content.decode()
    answer = client.post(url, {"stage": board.stage("Proposal").pk})
    assert answer.status_code == 302 and answer["Location"] == deal.get_absolute_url()
    deal.refresh_from_db()
    assert deal.stage == board.stage("Proposal")
    answer = client.post(url, {"stage": board.stage("Lost").pk, "lost_reason": "Budget frozen"}, follow=True)
    deal.refresh_from_db()
    assert deal.status == DealStatus.LOST and "Budget frozen" in answer.content.decode()


# Pages of a deal -----------------------------------------------------------------------------


def test_a_deals_pages_follow_the_access_rule(org, board):
    deal = make_deal(org.rep_a1, board)
    for url in (
        deal.get_absolute_url(),
        reverse("sales:deal_edit", args=[deal.pk]),
        reverse("sales:deal_lose", args=[deal.pk]),
    ):
        assert_access(
            url, allowed=[org.rep_a1, org.manager_a, org.admin], denied=[org.rep_a2, org.manager_b, org.rep_b1]
        )
    for name in ("sales:deal_move", "sales:deal_win"):
        assert_access(
            reverse(name, args=[deal.pk]),
            denied=[org.rep_a2, org.manager_b, org.rep_b1],
            method="post",
            data={"stage": board.stage("Won").pk},
        )
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and len(history(deal)) == 1


def test_a_colleague_of_a_sharing_team_reads_a_deal_but_its_forms_refuse_with_a_message(client, org, board):
    deal = make_deal(org.rep_b1, board)
    assert_access(
        deal.get_absolute_url(),
        allowed=[org.rep_b1, org.rep_b2, org.manager_b, org.admin],
        denied=[org.rep_a1, org.manager_a],
    )
    client.force_login(org.rep_b2)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert 'data-testid="read-only"' in page and 'data-testid="move-form"' not in page
    for url in (reverse("sales:deal_edit", args=[deal.pk]), reverse("sales:deal_lose", args=[deal.pk])):
        answer = client.get(url, follow=True)
        assert answer.redirect_chain == [(deal.get_absolute_url(), 302)]
        assert "Only the deal&#x27;s owner" in answer.content.decode()
    answer = client.post(reverse("sales:deal_win", args=[deal.pk]), {"create_order": "1"}, follow=True)
    assert "Only the deal&#x27;s owner" in answer.content.decode()
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


def test_the_deal_page_shows_its_history_and_takes_a_fixed_number_of_queries(
    client, org, board, django_assert_max_num_queries
):
    deal = make_deal(org.rep_a1, board, products=[ProductFactory(name="Phone"), ProductFactory(name="Case")])
    for stage in ("Proposal", "Negotiation", "Proposal", "Negotiation"):
        deal_move(deal=deal, by=org.rep_a1, stage=board.stage(stage))
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(11):
        page = client.get(deal.get_absolute_url())
    html = page.content.decode()
    assert html.count("Proposal →") == 2 and "Opened in" in html
    assert "Won – create the order" in html and "Phone" in html


def test_the_won_button_creates_the_order_in_one_step(client, org, board):
    phone = ProductFactory(name="Phone", unit_price=Decimal("14999.00"))
    deal = make_deal(org.rep_a1, board, products=[phone])
    client.force_login(org.rep_a1)
    answer = client.post(reverse("sales:deal_win", args=[deal.pk]), {"create_order": "1"})
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON and deal.order is not None
    assert answer.status_code == 302 and answer["Location"] == deal.order.get_absolute_url()
    page = client.get(deal.get_absolute_url()).content.decode()
    assert deal.order.number in page and "create the order" not in page


def test_the_won_button_of_a_deal_without_products_says_why_and_changes_nothing(client, org, board):
    deal = make_deal(org.rep_a1, board)
    client.force_login(org.rep_a1)
    answer = client.post(reverse("sales:deal_win", args=[deal.pk]), {"create_order": "1"}, follow=True)
    assert "Add the products" in answer.content.decode()
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


def test_the_lost_form_needs_a_reason(client, org, board):
    deal = make_deal(org.rep_a1, board)
    client.force_login(org.rep_a1)
    url = reverse("sales:deal_lose", args=[deal.pk])
    page = client.post(url, {"reason": " "})
    assert page.status_code == 200 and "This field is required." in page.content.decode()
    answer = client.post(url, {"reason": "<b>Chose a rival</b>"}, follow=True)
    html = answer.content.decode()
    assert "&lt;b&gt;Chose a rival&lt;/b&gt;" in html and "<b>Chose a rival</b>" not in html
    deal.refresh_from_db()
    assert deal.status == DealStatus.LOST


def test_a_new_deal_is_with_a_contact_the_user_may_see(client, org, board):
    company = company_create(by=org.rep_a1, name="Ganga Agro")
    contact = contact_create(by=org.rep_a1, given_name="Ravi", company=company)
    hidden = contact_create(by=org.rep_a2, given_name="Not yours")
    company_create(by=org.rep_a2, name="Hidden Co")
    client.force_login(org.rep_a1)
    url = reverse("sales:deal_create")
    assert client.get(url, {"contact": hidden.pk}).status_code == 404
    search = client.get(url, {"q": "Ravi"}).content.decode()
    assert f"?contact={contact.pk}" in search and f"?contact={hidden.pk}" not in search
    phone = ProductFactory(name="Phone")
    data = {
        "name": "Forty phones",
        "contact": contact.pk,
        "company": "Hidden Co",
        "stage": board.stage("Proposal").pk,
        "amount": "599960",
        "currency": "inr",
        "expected_close_date": "2027-03-31",
        "products": [phone.pk],
        "owner": org.rep_a1.pk,
    }
    page = client.post(f"{url}?contact={contact.pk}", data)
    assert page.status_code == 200 and "No company you can see is called" in page.content.decode()
    page = client.post(f"{url}?contact={contact.pk}", {**data, "company": "", "owner": org.rep_a2.pk})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    answer = client.post(f"{url}?contact={contact.pk}", {**data, "company": ""})
    deal = Deal.objects.get()
    assert answer.status_code == 302 and answer["Location"] == deal.get_absolute_url()
    assert (deal.company, deal.stage, deal.currency, deal.expected_close_date) == (
        company,
        board.stage("Proposal"),
        "INR",
        datetime.date(2027, 3, 31),
    )
    assert list(deal.products.all()) == [phone]


def test_the_edit_form_changes_a_deal_but_not_its_stage(client, org, board):
    deal = make_deal(org.rep_a1, board)
    client.force_login(org.manager_a)
    data = {
        "name": "Renamed",
        "contact": deal.contact_id,
        "company": "",
        "amount": "5",
        "currency": "INR",
        "owner": org.rep_a2.pk,
        "stage": board.stage("Won").pk,
    }
    answer = client.post(reverse("sales:deal_edit", args=[deal.pk]), data)
    assert answer.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.owner, deal.stage) == (
        "Renamed",
        Decimal("5.00"),
        org.rep_a2,
        board.stage("Lead"),
    )


# The list --------------------------------------------------------------------------------


def test_the_list_filters_and_totals_the_whole_filtered_set_per_stage(client, org, board):
    a = make_deal(org.rep_a1, board, stage="Proposal", amount="100000", expected_close_date=datetime.date(2027, 1, 10))
    make_deal(org.rep_a1, board, stage="Proposal", amount="300000", expected_close_date=datetime.date(2027, 2, 10))
    make_deal(org.rep_a1, board, stage="Negotiation", amount="50000", expected_close_date=datetime.date(2027, 1, 20))
    make_deal(org.rep_a2, board, stage="Proposal", amount="999999")  # not visible to rep_a1
    client.force_login(org.rep_a1)
    page = client.get(reverse("sales:deal_list"))
    totals = page.context["totals"]
    assert totals["count"] == 3
    rows = {row.stage: row for row in totals["stages"]}
    assert rows["Proposal"].count == 2
    assert (rows["Proposal"].totals[0].amount, rows["Proposal"].totals[0].weighted) == (
        Decimal("400000"),
        Decimal("200000.00"),
    )
    assert rows["Negotiation"].totals[0].weighted == Decimal("40000.00")
    assert [(t.amount, t.weighted) for t in totals["totals"]] == [(Decimal("450000"), Decimal("240000.00"))]

    page = client.get(
        reverse("sales:deal_list"),
        {"close_from": "2027-01-01", "close_to": "2027-01-31", "amount_min": "60000", "status": "open"},
    )
    assert [deal.pk for deal in page.context["page"].items] == [a.pk]
    assert page.context["totals"]["count"] == 1
    page = client.get(
        reverse("sales:deal_list"), {"stage": board.stage("Negotiation").pk, "pipeline": board.pipeline.pk}
    )
    assert page.context["totals"]["count"] == 1
    page = client.get(reverse("sales:deal_list"), {"owner": org.rep_a2.pk})
    assert "Select a valid choice" in page.content.decode()


def test_the_list_pages_by_key_in_a_fixed_number_of_queries(client, org, board, django_assert_max_num_queries):
    contact = contact_create(by=org.rep_a1, given_name="Big client")
    now = timezone.now()
    Deal.objects.bulk_create(
        Deal(
            name=f"Deal {n}",
            contact=contact,
            owner=org.rep_a1,
            amount=Decimal(1000),
            pipeline=board.pipeline,
            stage=board.stage("Lead"),
            updated_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(pipeline.DEAL_PAGE_SIZE + 10)
    )
    client.force_login(org.rep_a1)
    with django_assert_max_num_queries(9):
        first = client.get(reverse("sales:deal_list"))
    cursor = first.context["page"].next_cursor
    assert len(first.context["page"].items) == pipeline.DEAL_PAGE_SIZE and cursor is not None
    first_html = first.content.decode()
    assert f'data-testid="next-page" href="?after={urllib.parse.quote(str(cursor))}"' in first_html
    assert "Most recent" not in first_html
    with django_assert_max_num_queries(9):
        second = client.get(reverse("sales:deal_list"), {"after": str(cursor)})
    assert [deal.name for deal in second.context["page"].items] == [f"Deal {n}" for n in range(50, 60)]
    assert second.context["page"].next_cursor is None
    second_html = second.content.decode()
    assert 'data-testid="next-page"' not in second_html and ">Most recent</a>" in second_html
    assert client.get(reverse("sales:deal_list"), {"after": "yesterday"}).status_code == 400


# The contact's and the company's pages ------------------------------------------------------


def test_the_contact_and_company_pages_show_the_open_deals_the_user_may_see(client, org, board):
    company = company_create(by=org.rep_b1, name="Ganga Agro")
    contact = contact_create(by=org.rep_b1, given_name="Ravi", company=company)
    make_deal(org.rep_b1, board, contact=contact, name="Forty phones", amount="400000")
    make_deal(org.rep_b2, board, contact=contact, name="Ten cases", amount="5000")
    closed = make_deal(org.rep_b1, board, contact=contact, name="Old tablets")
    deal_lose(deal=closed, by=org.rep_b1, reason="No budget")
    client.force_login(org.rep_b1)
    for url in (contact.get_absolute_url(), company.get_absolute_url()):
        html = client.get(url).content.decode()
        assert 'data-testid="open-deals-panel"' in html
        assert "Forty phones" in html and "Ten cases" in html and "Old tablets" not in html
        assert "2 open deals" in html and "₹4,05,000.00" in html


def test_the_open_deals_panel_counts_beyond_the_deals_it_lists(org, board):
    contact = contact_create(by=org.rep_a1, given_name="Ravi")
    for _n in range(pipeline.PANEL_DEALS + 2):
        make_deal(org.rep_a1, board, contact=contact, amount="10")
    panel = pipeline.open_deals_of(user=org.rep_a1, contact=contact)
    assert len(panel["deals"]) == pipeline.PANEL_DEALS and panel["count"] == pipeline.PANEL_DEALS + 2
    assert panel["totals"][0].amount == Decimal("120.00")
    assert pipeline.open_deals_of(user=org.rep_a2, contact=contact)["count"] == 0


# The admin -------------------------------------------------------------------------------


def _stage_rows(rows, prefix="stages"):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for n, (name, kind, probability) in enumerate(rows):
        data.update(
            {
                f"{prefix}-{n}-position": str(n + 1),
                f"{prefix}-{n}-name": name,
                f"{prefix}-{n}-kind": kind,
                f"{prefix}-{n}-probability": str(probability),
            }
        )
    return data


def test_an_admin_makes_a_pipeline_with_its_stages_which_needs_a_won_and_a_lost_one(client, org):
    client.force_login(org.admin)
    url = reverse("admin:sales_pipeline_add")
    page = client.post(
        url, {"name": "Renewals", "position": "1", "active": "on", **_stage_rows([("Talk", "open", 20)])}
    )
    assert page.status_code == 200 and "at least one open, one won and one lost stage" in page.content.decode()
    rows = [("Talk", "open", 20), ("Signed", "won", 100), ("Gone", "lost", 0)]
    assert (
        client.post(url, {"name": "Renewals", "position": "1", "active": "on", **_stage_rows(rows)}).status_code == 302
    )
    stages = Stage.objects.filter(pipeline__name="Renewals").order_by("position")
    assert [(s.name, s.kind) for s in stages] == [
        ("Talk", StageKind.OPEN),
        ("Signed", StageKind.WON),
        ("Gone", StageKind.LOST),
    ]


def test_the_deal_admin_lists_and_shows_deals_with_their_history(client, org, board):
    deal = make_deal(org.rep_a1, board)
    deal_move(deal=deal, by=org.rep_a1, stage=board.stage("Proposal"))
    client.force_login(org.admin)
    assert client.get(reverse("admin:sales_deal_changelist")).status_code == 200
    page = client.get(reverse("admin:sales_deal_change", args=[deal.pk]))
    assert page.status_code == 200 and "Proposal" in page.content.decode()
    assert client.get(reverse("admin:sales_pipeline_change", args=[board.pipeline.pk])).status_code == 200


# The demo --------------------------------------------------------------------------------


def test_the_demo_has_deals_in_every_stage_consistent_with_each_contacts_lifecycle(settings):
    from django.core.management import call_command

    from contacts.models import Phase
    from sales.models import Order

    settings.DEBUG = True
    call_command("seed_demo", contacts=60)
    for stage in Stage.objects.filter(pipeline__name="Sales"):
        assert Deal.objects.filter(stage=stage).exists(), stage.name
    assert not Deal.objects.filter(contact__phase=Phase.SELECTION).exists()
    for deal in Deal.objects.filter(status=DealStatus.WON, contact__orders__status=OrderStatus.PAID).distinct():
        first = Order.objects.filter(contact=deal.contact, status=OrderStatus.PAID).order_by("placed_at").first()
        assert deal.won_at <= first.placed_at
    for deal in Deal.objects.all():
        changes = list(DealStageChange.objects.filter(deal=deal).order_by("at", "id"))
        assert changes[0].from_stage is None and changes[-1].to_stage_id == deal.stage_id
        assert Activity.objects.filter(ref=deal.ref, kind=ActivityKind.DEAL).exists()


def test_board_cards_escape_what_users_typed_and_carry_the_links_of_their_deal(client, org, board):
    contact = contact_create(by=org.rep_a1, given_name="<script>alert(1)</script>")
    deal = make_deal(org.rep_a1, board, contact=contact, name='Big "order" <b>now</b>', amount="1234567.50")
    client.force_login(org.manager_a)
    html = client.get(board.pipeline.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Big &quot;order&quot; &lt;b&gt;now&lt;/b&gt;" in html
    assert f'data-move-url="{reverse("sales:deal_move", args=[deal.pk])}"' in html
    assert f'href="{reverse("sales:deal_detail", args=[deal.pk])}"' in html
    assert 'draggable="true"' in html and "₹12,34,567.50" in html


def test_a_card_the_user_may_not_move_is_not_draggable_and_says_so():
    from django.template import Context, Template

    class Card:
        pk, name, amount, currency, expected_close_date, may_move = 7, "Deal", Decimal("10"), "INR", None, False
        contact = type("C", (), {"display_name": "Asha"})()
        owner = "Priya"

    html = Template("{% load deal_tags %}{% kanban_card card %}").render(Context({"card": Card()}))
    assert "draggable" not in html and "you cannot move this deal" in html and 'data-deal="7"' in html
