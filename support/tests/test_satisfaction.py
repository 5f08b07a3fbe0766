"""The satisfaction link: emailed after resolution (real worker, real SMTP), answered once without
signing in; a reused, forged, expired or replaced link gets a clear page."""

import datetime
import re
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse

from contacts.models import Activity, Channel, ConsentStatus
from contacts.services import consent_set
from contacts.tests.factories import ContactFactory
from support.models import Status, Ticket
from support.satisfaction import SALT, link_token, satisfaction_request_send
from support.services import satisfaction_record, ticket_set_status
from support.tasks import satisfaction_request_task
from support.tests.factories import TicketFactory

LINK = re.compile(r"https?://\S+/support/satisfaction/[^/\s]+/")


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _text_of(envelope) -> str:
    message = message_from_bytes(envelope.content, policy=default_policy)
    return message.get_body(preferencelist=("plain",)).get_content()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _resolved_ticket(email="asha@example.com", **kwargs) -> Ticket:
    ticket = TicketFactory(
        contact=ContactFactory(email=email, display_name="Asha Rao"), subject="Router down", **kwargs
    )
    ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.RESOLVED, request_satisfaction=False)
    return ticket


@pytest.mark.django_db(transaction=True)
def test_the_link_arrives_by_smtp_and_is_answered_once_without_signing_in(celery_worker, smtp_server):
    ticket = TicketFactory(
        contact=ContactFactory(email="asha@example.com", display_name="Asha Rao"), subject="Router down"
    )
    ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.RESOLVED, link_base="http://testserver/")
    assert _wait_for(lambda: smtp_server.messages)
    # A redelivered task (a worker killed after the send) sends nothing more.
    assert satisfaction_request_task.delay(ticket.pk, "http://testserver/").get(timeout=20) is False
    time.sleep(0.3)
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["asha@example.com"]
    text = _text_of(envelope)
    assert "Asha Rao" in text and "Router down" in text
    url = LINK.search(text).group(0)
    assert url.startswith("http://testserver/support/satisfaction/")

    customer = Client()  # nobody signed in
    page = customer.get(_path(url))
    assert page.status_code == 200 and 'data-testid="satisfaction-form"' in page.content.decode()
    answered = customer.post(_path(url), {"score": "4", "comment": "Quick <b>and</b> kind"})
    assert answered.status_code == 200 and 'data-testid="satisfaction-thanks"' in answered.content.decode()
    ticket.refresh_from_db()
    assert (ticket.satisfaction, ticket.satisfaction_comment) == (4, "Quick <b>and</b> kind")
    assert ticket.satisfaction_answered_at is not None

    again = customer.post(_path(url), {"score": "1"})
    assert again.status_code == 410
    assert 'data-state="answered"' in again.content.decode()
    assert customer.get(_path(url)).status_code == 410
    ticket.refresh_from_db()
    assert ticket.satisfaction == 4
    assert Activity.objects.filter(ref=f"support.ticket:{ticket.pk}", summary__contains="4 of 5").count() == 1


@pytest.mark.django_db
def test_a_forged_link_is_refused(client):
    ticket = _resolved_ticket()
    assert satisfaction_request_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    token = link_token(ticket)
    forged_payload = signing.dumps({"t": ticket.pk, "n": ticket.satisfaction_nonce}, salt="another-salt")
    guessed_nonce = signing.dumps({"t": ticket.pk, "n": "0" * 32}, salt=SALT)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in [tampered, forged_payload, guessed_nonce, "not-a-link"]:
        response = client.post(reverse("support:satisfaction", args=[bad]), {"score": "5"})
        assert response.status_code == 400
        assert 'data-state="invalid"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None and ticket.satisfaction_answered_at is None


@pytest.mark.django_db
def test_an_expired_link_is_refused(client, monkeypatch):
    ticket = _resolved_ticket()
    satisfaction_request_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    month_ago = time.time() - datetime.timedelta(days=31).total_seconds()
    with monkeypatch.context() as clock:
        clock.setattr("django.core.signing.time.time", lambda: month_ago)
        token = link_token(ticket)
    response = client.post(reverse("support:satisfaction", args=[token]), {"score": "5"})
    assert response.status_code == 410 and 'data-state="expired"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


@pytest.mark.django_db
def test_a_link_replaced_after_a_reopening_no_longer_works(client, mailoutbox):
    ticket = _resolved_ticket()
    satisfaction_request_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    old_token = link_token(ticket)
    ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.OPEN)
    ticket_set_status(ticket=ticket, by=ticket.contact.owner, to=Status.RESOLVED, request_satisfaction=False)
    assert satisfaction_request_send(ticket_id=ticket.pk)
    assert len(mailoutbox) == 2
    response = client.get(reverse("support:satisfaction", args=[old_token]))
    assert response.status_code == 400
    new_url = LINK.search(mailoutbox[1].body).group(0)
    assert client.get(_path(new_url)).status_code == 200


@pytest.mark.django_db
def test_no_score_is_a_clear_message_and_nothing_is_stored(client):
    ticket = _resolved_ticket()
    satisfaction_request_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    response = client.post(reverse("support:satisfaction", args=[link_token(ticket)]), {"score": "9"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(reverse("support:satisfaction", args=[link_token(ticket)]), {})
    assert "Choose a score from 1 to 5." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction_answered_at is None


@pytest.mark.django_db
def test_no_email_without_an_address_or_after_email_consent_is_withdrawn(mailoutbox):
    without = _resolved_ticket(email="")
    withdrawn = _resolved_ticket(email="ravi@example.com")
    consent_set(
        contact=withdrawn.contact,
        channel=Channel.EMAIL,
        status=ConsentStatus.WITHDRAWN,
        method="phone call",
        by=withdrawn.contact.owner,
    )
    open_ticket = TicketFactory(contact=ContactFactory(email="open@example.com"))
    assert not satisfaction_request_send(ticket_id=without.pk)
    assert not satisfaction_request_send(ticket_id=withdrawn.pk)
    assert not satisfaction_request_send(ticket_id=open_ticket.pk)
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_link_at_once_store_one_answer():
    ticket = _resolved_ticket()
    satisfaction_request_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    nonce, results = ticket.satisfaction_nonce, []
    start = threading.Barrier(4)

    def submit(score):
        try:
            start.wait()
            results.append(satisfaction_record(ticket=Ticket(pk=ticket.pk), score=score, nonce=nonce))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(score,)) for score in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert Activity.objects.filter(ref=f"support.ticket:{ticket.pk}", summary__contains="of 5").count() == 1
