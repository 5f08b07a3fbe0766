"""The key journey in a real browser (Debian's Chromium): sign in, dashboard, switch to Hindi."""

import pytest
from playwright.sync_api import expect

from crm.tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_rep_signs_in_sees_the_dashboard_and_switches_to_hindi(live_server, page):
    UserFactory(username="asha", first_name="Asha", password="correct-horse-battery")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("asha")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Welcome, Asha")).to_be_visible()
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name="Contacts")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="हिन्दी").click()

    expect(nav.get_by_role("link", name="Contacts")).to_have_count(0)
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    hindi_labels = nav.get_by_role("link").all_inner_texts()
    assert hindi_labels and all(any("\u0900" <= ch <= "\u097f" for ch in label) for label in hindi_labels)
    # a strict CSP and our own pages: nothing blocked, nothing missing
    assert errors == []
