"""Background jobs of the sales app: thin, idempotent wrappers around its services."""

from celery import shared_task


@shared_task
def lifecycle_churn_task() -> int:
    """Nightly (beat): customers without a purchase within the churn window move to churned.
    Set-based and safe to run twice (a second run finds nobody left to move)."""
    from sales.lifecycle import lifecycle_churn

    return lifecycle_churn()


@shared_task
def suggestions_refresh_task(basket: str = "order") -> dict[str, int]:
    """Nightly (beat): recompute the products bought together behind the cross-sell suggestions."""
    from sales.services import suggestions_refresh

    return suggestions_refresh(basket=basket)


@shared_task
def order_import_run_task(job_id: int) -> str:
    """Run or continue an order import; a second delivery while it runs, or after it finished, does nothing."""
    from sales.importer import order_import_run

    return order_import_run(job_id=job_id)


@shared_task
def tiers_recompute_task() -> int:
    """Nightly (beat): every contact's loyalty tier from their last 12 months, in sets. Runs one at
    a time (an advisory lock); a second run finds nothing to change."""
    from sales.loyalty import tiers_recompute

    return tiers_recompute()


@shared_task
def codes_issue_to_tier_task(**job) -> int:
    """Reward codes for every holder of a large tier (sales.loyalty.codes_issue_to_tier_request);
    its batch key makes a second delivery issue nothing twice."""
    from sales.loyalty import codes_issue_to_tier_job

    return codes_issue_to_tier_job(**job)
