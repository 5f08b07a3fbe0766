"""Background jobs of support: thin, idempotent wrappers around its functions."""

from celery import shared_task


@shared_task
def sla_breaches_flag_task() -> int:
    """Every minute (beat): flag the tickets that missed a target and tell their assignee, once each."""
    from support.breaches import sla_breaches_flag

    return len(sla_breaches_flag())


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def satisfaction_request_task(ticket_id: int, link_base: str = "") -> bool:
    """Email a resolved ticket's satisfaction link; a second run (or a redelivery) sends nothing."""
    from support.satisfaction import satisfaction_request_send

    return satisfaction_request_send(ticket_id=ticket_id, link_base=link_base)
