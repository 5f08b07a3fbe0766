"""The deal board in a real browser (Debian's Chromium): a rep drags a deal to the next stage, the
move is saved without a reload, and the deal is still there when the page is opened again."""

import pytest
from playwright.sync_api import expect

from crm.tests.factories import UserFactory
from sales.models import DealStageChange
from sales.tests.factories_deals import make_deal, make_pipeline


@pytest.mark.django_db(transaction=True)
def test_a_rep_drags_a_deal_to_the_next_stage_and_it_stays_there(live_server, page):
    rep = UserFactory(username="asha", first_name="Asha", password="correct-horse-battery")
    board = make_pipeline("Enterprise")
    deal = make_deal(rep, board, stage="Lead", name="Forty phones", amount="200000")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("asha")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Asha")).to_be_visible()

    page.goto(f"{live_server.url}{board.pipeline.get_absolute_url()}")
    lead, proposal = page.get_by_test_id("stage-lead"), page.get_by_test_id("stage-proposal")
    card = lead.get_by_test_id("deal-card").filter(has_text="Forty phones")
    expect(card).to_be_visible()
    expect(lead.get_by_test_id("stage-count")).to_have_text("1")
    expect(proposal.get_by_test_id("stage-count")).to_have_text("0")

    # A marker on the page: it is gone if the move reloads the page.
    page.get_by_test_id("kanban").evaluate("board => board.dataset.sameDocument = 'yes'")
    card.drag_to(proposal)

    moved = proposal.get_by_test_id("deal-card").filter(has_text="Forty phones")
    expect(moved).to_be_visible()
    expect(page.get_by_test_id("kanban-status")).to_contain_text("Forty phones → Proposal")
    expect(proposal.get_by_test_id("stage-count")).to_have_text("1")
    expect(proposal.get_by_test_id("stage-weighted")).to_have_text("₹1,00,000.00")
    expect(lead.get_by_test_id("stage-count")).to_have_text("0")
    expect(lead.get_by_test_id("deal-card")).to_have_count(0)
    expect(page.get_by_test_id("kanban")).to_have_attribute("data-same-document", "yes")
    assert DealStageChange.objects.filter(deal=deal, to_stage=board.stage("Proposal"), by=rep).exists()

    page.reload()
    expect(
        page.get_by_test_id("stage-proposal").get_by_test_id("deal-card").filter(has_text="Forty phones")
    ).to_be_visible()
    expect(page.get_by_test_id("stage-lead").get_by_test_id("deal-card")).to_have_count(0)

    # Without dragging: the card opens the deal, whose form moves it too.
    page.get_by_role("link", name="Forty phones").click()
    move_form = page.get_by_test_id("move-form")
    move_form.get_by_label("Stage").select_option(label="Negotiation (80 %)")
    move_form.get_by_role("button", name="Move").click()
    expect(page.get_by_test_id("deal-stage")).to_contain_text("Negotiation")
    expect(page.get_by_test_id("stage-history")).to_contain_text("Proposal → Negotiation")
    assert errors == []
