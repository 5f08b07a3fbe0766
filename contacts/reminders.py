"""Task reminders: each goes out once, by email and as an in-app notice.

How "exactly once" is kept, even with two beat runs at once and workers killed and restarted:

1. Claim (the beat job, every minute, `reminders_send_due`). One transaction locks the due rows
   with ``SELECT … FOR UPDATE SKIP LOCKED`` (open, ``remind_at <= now``, ``reminder_sent_at``
   null), sets ``reminder_sent_at`` and creates the notification (``notify``, unique per
   user + ``task-reminder:<id>``) for each. A concurrent run skips the locked rows and, once they
   are committed, no longer matches them; a run that dies before commit claimed nothing.
2. Email (``reminder_email_send``, one Celery task per task id, queued with
   ``transaction.on_commit`` so no worker sees a claim that may still roll back). It locks the
   task row (plain ``FOR UPDATE``: a second copy waits, then finds the flag set), sends only if
   ``reminder_emailed_at`` is null and the task still open, and sets the flag in the same
   transaction. Two copies of the task therefore send once.
3. Recovery: a claim whose email task was lost (broker down, process killed between commit and
   enqueue) is found by the next beat run (claimed over `EMAIL_RETRY_AFTER` ago, flag still null,
   within `EMAIL_GIVE_UP_AFTER`) and queued again; step 2 makes that harmless.

The one window no design closes with SMTP: a worker killed after the server accepted the message
but before the commit; then the email goes out a second time (at-least-once beats losing it).
"""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Task, TaskStatus
from contacts.services import notify, reminder_key
from crm.links import absolute_url

BATCH_SIZE = 500
EMAIL_RETRY_AFTER = datetime.timedelta(minutes=10)
EMAIL_GIVE_UP_AFTER = datetime.timedelta(days=1)


def _in_zone_of(user):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _reminder_text(task: Task) -> str:
    due = formats.date_format(timezone.localtime(task.due_at), "DATETIME_FORMAT")
    return _("Reminder: %(title)s (due %(due)s)") % {"title": task.title, "due": due}


def reminders_send_due(*, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> list[int]:
    """Claim the due reminders (notification now, email queued on commit); returns the claimed ids."""
    from contacts.tasks import task_reminder_email_task

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Task.objects.filter(status=TaskStatus.OPEN, reminder_sent_at__isnull=True, remind_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("assignee")
            .order_by("remind_at", "id")[:batch_size]
        )
        claimed = [task.pk for task in due]
        Task.objects.filter(pk__in=claimed).update(reminder_sent_at=now)
        for task in due:
            user = task.assignee
            with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_in_zone_of(user)):
                notify(user=user, text=_reminder_text(task), key=reminder_key(task.pk), url=task_url(task))
        # Claims whose email task never ran (lost between commit and enqueue, or a dead worker).
        stranded = list(
            Task.objects.filter(
                status=TaskStatus.OPEN,
                reminder_sent_at__isnull=False,
                reminder_emailed_at__isnull=True,
                reminder_sent_at__lt=now - EMAIL_RETRY_AFTER,
                reminder_sent_at__gte=now - EMAIL_GIVE_UP_AFTER,
            ).values_list("pk", flat=True)[:batch_size]
        )
        for task_id in [*claimed, *stranded]:
            transaction.on_commit(lambda task_id=task_id: task_reminder_email_task.delay(task_id))
    return claimed


def task_url(task: Task) -> str:
    if task.contact_id:
        return reverse("contacts:contact_detail", args=[task.contact_id])
    if task.company_id:
        return reverse("contacts:company_detail", args=[task.company_id])
    return reverse("contacts:my_day")


def reminder_email_send(*, task_id: int) -> bool:
    """Send the reminder email of one claimed task unless it went already; True if it was sent now."""
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .filter(
                pk=task_id, status=TaskStatus.OPEN, reminder_sent_at__isnull=False, reminder_emailed_at__isnull=True
            )
            .first()
        )
        if task is None:
            return False
        user = task.assignee
        if user.email and user.is_active:
            with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_in_zone_of(user)):
                subject = _reminder_text(task)
                lines = [subject]
                if task.contact_id:
                    lines.append(_("Contact: %(name)s") % {"name": task.contact.display_name})
                if task.notes:
                    lines += ["", task.notes]
                lines += ["", _("Open it in the CRM: %(path)s") % {"path": absolute_url(task_url(task))}]
            # Sent inside the transaction: if SMTP fails, the flag stays null and the task retries.
            EmailMessage(
                subject=" ".join(subject.splitlines())[:200],
                body="\n".join(lines),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            ).send()
        task.reminder_emailed_at = timezone.now()
        task.save(update_fields=["reminder_emailed_at"])
        return True
