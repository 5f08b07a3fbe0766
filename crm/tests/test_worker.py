"""Real tasks through a real Celery worker over Redis: email, and the health check."""

import re
import time

import pytest
from django.urls import reverse

from crm.tasks import send_email_task

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_redis_and_a_worker_answer(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "redis": True, "worker": True}


def test_a_worker_sends_an_email_over_smtp(celery_worker, smtp_server):
    result = send_email_task.delay(
        subject="Namaste",
        body="नमस्ते, your order has shipped.",
        from_email="crm@example.com",
        to=["asha@example.com"],
    )
    assert result.get(timeout=20) == 1
    [message] = smtp_server.messages
    assert message.rcpt_tos == ["asha@example.com"]
    assert "Subject: Namaste" in message.content.decode()


def test_password_reset_by_email_end_to_end(
    client, org, celery_worker, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": org.rep_a1.email})
    assert response.status_code == 302
    for _ in range(200):
        if smtp_server.messages:
            break
        time.sleep(0.05)
    [message] = smtp_server.messages
    text = message.content.decode()
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", text).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done.status_code == 302
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.check_password("a-brand-new-passphrase")


def test_password_reset_answers_the_same_for_an_unknown_address(client, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        known = client.post(reverse("password_reset"), {"email": org.rep_a1.email})
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(callbacks) == 1  # only the real account gets an email
