"""Signing in and out, password change, and throttled failed logins."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_a_rep_signs_in_and_lands_on_the_dashboard(client, org):
    response = login(client, "rep_a1", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_signing_out_needs_a_post_and_ends_the_session(client, org):
    client.force_login(org.rep_a1)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_change(client, org):
    client.force_login(org.rep_a1)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.check_password("a-new-long-passphrase")


def test_failed_logins_lock_the_account_even_from_other_addresses(client, org, settings):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "rep_a1", "wrong", ip=f"10.0.1.{n}").status_code == 200
    assert login(client, "rep_a1", "wrong", ip="10.0.1.99").status_code == 429
    # the right password no longer opens the account, whatever the address
    locked = login(client, "rep_a1", PASSWORD, ip="10.0.2.1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failed_logins_lock_the_address_for_every_account(client, org, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{n}", "wrong", ip="10.0.3.3")
    assert login(client, "rep_a2", PASSWORD, ip="10.0.3.3").status_code == 429
    assert login(client, "rep_a2", PASSWORD, ip="10.0.3.4").status_code == 302


def test_lockout_answer_is_the_same_whether_or_not_the_account_exists(client, org, settings):
    answers = []
    for n, username in enumerate(["rep_b1", "nobody-by-this-name"]):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            failed = login(client, username, "wrong", ip=f"10.0.4.{n}")
            assert failed.status_code == 200
            assert "correct username and password" in failed.content.decode()
        locked = login(client, username, "wrong", ip=f"10.0.4.{n}")
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", locked.content.decode())
        answers.append((locked.status_code, body))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429


def test_a_successful_login_resets_the_failure_count(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rep_a1", "wrong")
    assert login(client, "rep_a1", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rep_a1", "wrong")
    assert login(client, "rep_a1", PASSWORD).status_code == 302
