"""Task reminders: each goes out once, by email (real SMTP, real worker) and as an in-app notice."""

import datetime
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from contacts.models import Notification, Task, TaskStatus
from contacts.reminders import EMAIL_RETRY_AFTER, reminder_email_send, reminders_send_due
from contacts.services import contact_create, task_complete, task_create, task_update
from contacts.tasks import reminders_send_due_task, task_reminder_email_task
from contacts.tests.factories import ContactFactory
from crm.tests.factories import UserFactory


def _due_task(user, title="Call Ravi", minutes_ago=1, **kwargs) -> Task:
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return task_create(by=user, title=title, due_at=at + datetime.timedelta(hours=1), remind_at=at, **kwargs)


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _emails_to(inbox, address: str) -> list:
    return [message for message in inbox.messages if address in message.rcpt_tos]


# The claim, without a worker ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_due_reminder_is_claimed_once_with_its_notice(django_capture_on_commit_callbacks):
    user = UserFactory()
    contact = ContactFactory(owner=user, display_name="Ravi Kumar")
    task = _due_task(user, contact=contact)
    with django_capture_on_commit_callbacks() as first:
        assert reminders_send_due() == [task.pk]
    with django_capture_on_commit_callbacks() as second:
        assert reminders_send_due() == []
    assert len(first) == 1 and second == []  # one email task queued, on commit
    task.refresh_from_db()
    assert task.reminder_sent_at is not None
    notice = Notification.objects.get()
    assert (notice.user, notice.key, notice.url) == (user, f"task-reminder:{task.pk}", contact.get_absolute_url())
    assert "Call Ravi" in notice.text


@pytest.mark.django_db
def test_future_done_and_cancelled_tasks_are_not_claimed():
    user = UserFactory()
    _due_task(user, title="Future", minutes_ago=-30)
    done = _due_task(user, title="Done")
    task_complete(task=done, by=user)
    cancelled = _due_task(user, title="Cancelled")
    Task.objects.filter(pk=cancelled.pk).update(status=TaskStatus.CANCELLED)
    assert reminders_send_due() == []
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_notice_is_written_in_the_assignees_language_and_time_zone():
    user = UserFactory(language="hi", time_zone="America/New_York")
    due = datetime.datetime(2026, 3, 10, 18, 0, tzinfo=datetime.UTC)  # 14:00 in New York
    task_create(by=user, title="कॉल", due_at=due, remind_at=timezone.now() - datetime.timedelta(minutes=1))
    reminders_send_due()
    text = Notification.objects.get().text
    assert "कॉल" in text and ("2:00" in text or "14:00" in text)


@pytest.mark.django_db
def test_the_email_goes_once_even_if_its_task_runs_twice(mailoutbox):
    user = UserFactory(email="asha@example.com")
    task = _due_task(user)
    reminders_send_due()
    assert reminder_email_send(task_id=task.pk) is True
    assert reminder_email_send(task_id=task.pk) is False
    [message] = mailoutbox
    assert message.to == ["asha@example.com"] and "Call Ravi" in message.subject


@pytest.mark.django_db
def test_the_email_links_to_the_record_on_the_crms_own_address(mailoutbox, settings):
    settings.SITE_URL = "https://crm.example.in/"
    user = UserFactory(email="asha@example.com")
    contact = contact_create(by=user, given_name="Ravi")
    task = task_create(by=user, title="Call", due_at=timezone.now(), contact=contact)
    reminders_send_due()
    assert reminder_email_send(task_id=task.pk) is True
    assert f"https://crm.example.in/contacts/{contact.pk}/" in mailoutbox[0].body


@pytest.mark.django_db
def test_a_task_done_after_the_claim_gets_no_email(mailoutbox):
    user = UserFactory()
    task = _due_task(user)
    reminders_send_due()
    task_complete(task=task, by=user)
    assert reminder_email_send(task_id=task.pk) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_unclaimed_task_gets_no_email(mailoutbox):
    task = _due_task(UserFactory())
    assert reminder_email_send(task_id=task.pk) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_claim_whose_email_was_lost_is_queued_again(django_capture_on_commit_callbacks):
    task = _due_task(UserFactory())
    Task.objects.filter(pk=task.pk).update(reminder_sent_at=timezone.now() - EMAIL_RETRY_AFTER * 2)
    with django_capture_on_commit_callbacks() as callbacks:
        assert reminders_send_due() == []
    assert len(callbacks) == 1
    Task.objects.filter(pk=task.pk).update(reminder_emailed_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:
        reminders_send_due()
    assert callbacks == []


@pytest.mark.django_db
def test_moving_the_reminder_arms_it_again():
    user = UserFactory()
    task = _due_task(user)
    reminders_send_due()
    later = timezone.now() + datetime.timedelta(days=1)
    task_update(task=task, by=user, remind_at=later, due_at=later)
    task.refresh_from_db()
    assert task.reminder_sent_at is None and not Notification.objects.exists()
    assert reminders_send_due(now=later + datetime.timedelta(seconds=1)) == [task.pk]


@pytest.mark.django_db
def test_the_job_is_scheduled_every_minute():
    call_command("setup_periodic_tasks")
    job = PeriodicTask.objects.get(task="contacts.tasks.reminders_send_due_task")
    assert job.crontab.minute == "*" and job.crontab.hour == "*" and job.enabled


# Through a real worker and a real SMTP server -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_due_reminder_arrives_by_smtp_exactly_once_when_the_job_runs_twice(celery_worker, smtp_server):
    user = UserFactory(email="priya@example.com")
    due = _due_task(user, title="Send the quote")
    future = _due_task(user, title="Future call", minutes_ago=-60)
    done = _due_task(user, title="Finished call")
    task_complete(task=done, by=user)

    assert reminders_send_due_task.delay().get(timeout=20) == 1
    assert reminders_send_due_task.delay().get(timeout=20) == 0
    assert _wait_for(lambda: _emails_to(smtp_server, "priya@example.com"))
    # A redelivered email task (a worker killed after the send) and a third beat run change nothing.
    assert task_reminder_email_task.delay(due.pk).get(timeout=20) is False
    assert reminders_send_due_task.delay().get(timeout=20) == 0
    time.sleep(0.5)

    [message] = _emails_to(smtp_server, "priya@example.com")
    text = message.content.decode()
    assert "Send the quote" in text and "Future call" not in text and "Finished call" not in text
    assert Notification.objects.filter(user=user).count() == 1
    due.refresh_from_db()
    future.refresh_from_db()
    assert due.reminder_emailed_at is not None and future.reminder_sent_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(celery_worker, smtp_server):
    users = [UserFactory(email=f"rep{n}@example.com") for n in range(4)]
    tasks = [_due_task(users[n % 4], title=f"Task {n}") for n in range(40)]
    claimed, errors = [], []
    start = threading.Barrier(4)

    def run():
        try:
            start.wait()
            claimed.append(reminders_send_due(batch_size=7))
            while batch := reminders_send_due(batch_size=7):
                claimed.append(batch)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    ids = [task_id for batch in claimed for task_id in batch]
    assert sorted(ids) == sorted(task.pk for task in tasks)  # every one claimed, none twice
    assert _wait_for(lambda: len(smtp_server.messages) >= 40, timeout=60)
    assert _wait_for(lambda: not Task.objects.filter(reminder_emailed_at__isnull=True).exists())
    time.sleep(0.5)
    subjects = sorted(m.content.decode().split("Subject: ")[1].split("\n")[0] for m in smtp_server.messages)
    assert len(subjects) == 40 and len({s.split(" (")[0] for s in subjects}) == 40
    assert Notification.objects.count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_run_skips_rows_another_run_holds_and_takes_them_later(celery_worker, smtp_server):
    user = UserFactory(email="meera@example.com")
    held = _due_task(user, title="Held by another run")
    free = _due_task(user, title="Free to take")
    with transaction.atomic():
        Task.objects.select_for_update().get(pk=held.pk)  # as a concurrent run would, mid-claim
        # The worker does not wait for the lock, and leaves the held row alone.
        assert reminders_send_due_task.delay().get(timeout=20) == 1
    assert reminders_send_due_task.delay().get(timeout=20) == 1
    assert _wait_for(lambda: len(_emails_to(smtp_server, "meera@example.com")) >= 2)
    time.sleep(0.5)
    texts = [m.content.decode() for m in _emails_to(smtp_server, "meera@example.com")]
    assert len(texts) == 2
    assert sum("Held by another run" in t for t in texts) == 1 and sum("Free to take" in t for t in texts) == 1
    free.refresh_from_db()
    assert free.reminder_emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_lost_email_task_is_sent_once_by_a_later_run(celery_worker, smtp_server):
    user = UserFactory(email="dev@example.com")
    task = _due_task(user, title="Stranded")
    # Claimed by a run whose process died between commit and enqueue.
    Task.objects.filter(pk=task.pk).update(reminder_sent_at=timezone.now() - EMAIL_RETRY_AFTER * 2)
    reminders_send_due_task.delay().get(timeout=20)
    reminders_send_due_task.delay().get(timeout=20)
    assert _wait_for(lambda: _emails_to(smtp_server, "dev@example.com"))
    assert _wait_for(lambda: Task.objects.filter(pk=task.pk, reminder_emailed_at__isnull=False).exists())
    reminders_send_due_task.delay().get(timeout=20)
    time.sleep(0.5)
    assert len(_emails_to(smtp_server, "dev@example.com")) == 1
