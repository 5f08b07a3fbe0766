"""Background jobs of the contacts app: thin, idempotent wrappers around its services."""

from celery import shared_task


@shared_task
def reminders_send_due_task() -> int:
    """Every minute (beat): claim the due task reminders; their emails follow on commit."""
    from contacts.reminders import reminders_send_due

    return len(reminders_send_due())


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def task_reminder_email_task(task_id: int) -> bool:
    """Email one task's reminder; a second run (or a redelivery) finds it sent and does nothing."""
    from contacts.reminders import reminder_email_send

    return reminder_email_send(task_id=task_id)


@shared_task
def import_run_task(job_id: int) -> str:
    """Run or continue an import job; a second delivery while it runs, or after it finished, does nothing."""
    from contacts.importers.job import import_run

    return import_run(job_id=job_id)


@shared_task
def duplicates_find_task(contact_ids: list[int] | None = None) -> dict[str, int]:
    """Nightly (beat), or "Scan now": queue every pair that looks like one person; with ids, only
    pairs involving those contacts (after a create or an import). Running twice adds nothing."""
    from contacts.duplicates import duplicates_find

    return duplicates_find(contact_ids=contact_ids)
