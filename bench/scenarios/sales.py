"""Scenarios of sales: the kanban board of the first pipeline, the page of a contact with a thousand
orders, and the nightly lifecycle (churn) and loyalty jobs over the whole data set.

Pages go through the Django test client signed in as the data set's manager. The nightly jobs run
through their Celery tasks (`task.apply()`, in a process of their own for its peak memory) inside a
transaction that is rolled back, as are their floors, so the data set is left as it was."""

import time

from django.db import connection, transaction

from bench.harness import Measure, child_task, peak_rss_mb, query_log, scenario

BOARD_URL = "/sales/deals/"


def _visible_owners(env) -> list[int] | None:
    from crm.access import visible_owner_ids

    owners = visible_owner_ids(env.user(env.markers["manager_username"]))
    return None if owners is None else sorted(owners.values_list("pk", flat=True))


def _explain(client, url: str):
    def queries():
        with query_log(keep=True) as log:
            client.get(url)
        return log.queries

    return queries


@scenario("sales.kanban", "Kanban board of the first pipeline (its open deals, as the manager)")
def kanban(env) -> Measure:
    from sales.pipeline import BOARD_CARDS_PER_STAGE, BOARD_CLOSED_DAYS, default_pipeline

    client = env.client(env.markers["manager_username"])
    pipeline = default_pipeline()
    owners = _visible_owners(env)
    visible = "d.owner_id = ANY(%s)" if owners is not None else "TRUE"
    params = [owners] if owners is not None else []
    open_deals = env.sql(
        f"SELECT count(*) FROM sales_deal d WHERE d.pipeline_id = %s AND d.status = 'open' AND {visible}",  # noqa: S608
        [pipeline.pk, *params],
    )[0][0]
    # The cards the board shows: per stage the most recently changed deals on the board.
    floor_sql = f"""
        SELECT * FROM (
            SELECT d.id, d.name, d.amount, d.currency, d.expected_close_date, d.status, d.stage_id, d.updated_at,
                   c.id, c.display_name, u.id, u.username, u.first_name, u.last_name,
                   row_number() OVER (PARTITION BY d.stage_id ORDER BY d.updated_at DESC, d.id DESC) AS place
            FROM sales_deal d
            JOIN contacts_contact c ON c.id = d.contact_id
            JOIN crm_user u ON u.id = d.owner_id
            WHERE d.pipeline_id = %s AND {visible}
              AND (d.status = 'open' OR (d.status = 'won' AND d.won_at >= now() - %s * interval '1 day')
                   OR (d.status = 'lost' AND d.lost_at >= now() - %s * interval '1 day'))
        ) cards WHERE place <= %s ORDER BY stage_id, place
    """  # noqa: S608 - fixed fragments
    floor_params = [pipeline.pk, *params, BOARD_CLOSED_DAYS, BOARD_CLOSED_DAYS, BOARD_CARDS_PER_STAGE]
    return Measure(
        run=lambda: env.get(client, BOARD_URL),
        floor=lambda: env.sql(floor_sql, floor_params),
        floor_title=f"one SELECT of the board's cards ({BOARD_CARDS_PER_STAGE} per stage, row_number)",
        explain=_explain(client, BOARD_URL),
        notes=[f"{open_deals:,} open deals of pipeline “{pipeline.name}” visible to {env.markers['manager_username']}"],
    )


@scenario("sales.contact_page", "Contact page of a customer with 1,000 orders")
def contact_page(env) -> Measure:
    client = env.client(env.markers["manager_username"])
    pk = env.markers.get("orders_contact_id")
    if pk is None:
        pk = env.sql("SELECT contact_id FROM sales_order GROUP BY contact_id ORDER BY count(*) DESC LIMIT 1")[0][0]
    url = f"/contacts/{pk}/"
    orders = env.sql("SELECT count(*) FROM sales_order WHERE contact_id = %s", [pk])[0][0]
    floor_sql = """
        SELECT c.id, c.display_name, c.email, c.phone, c.phase, o.id, o.placed_at, o.status, o.total, o.currency,
               (SELECT sum(total) FROM sales_order p WHERE p.contact_id = c.id AND p.status = 'paid')
        FROM contacts_contact c JOIN sales_order o ON o.contact_id = c.id
        WHERE c.id = %s ORDER BY o.placed_at DESC, o.id DESC LIMIT 10
    """
    return Measure(
        run=lambda: env.get(client, url),
        floor=lambda: env.sql(floor_sql, [pk]),
        floor_title="one SELECT of the contact, its 10 newest orders and its lifetime revenue",
        explain=_explain(client, url),
        notes=[f"contact {pk} has {orders:,} orders"],
    )


# The nightly jobs --------------------------------------------------------------------------------


def _rolled_back(task) -> dict:
    """Run a Celery task through Celery (eagerly, here) inside a transaction that is rolled back."""
    base = peak_rss_mb()
    started = time.perf_counter()
    with transaction.atomic():
        changed = task.apply().get()
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "rss_base_mb": base, "details": {"changed": changed}}


@child_task("lifecycle_churn")
def lifecycle_churn_child() -> dict:
    from sales.tasks import lifecycle_churn_task

    return _rolled_back(lifecycle_churn_task)


@child_task("tiers_recompute")
def tiers_recompute_child() -> dict:
    from sales.tasks import tiers_recompute_task

    return _rolled_back(tiers_recompute_task)


def _floor_statement(sql: str, params: dict):
    def floor():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            transaction.set_rollback(True)

    return floor


@scenario(
    "sales.nightly_lifecycle",
    "Nightly lifecycle (churn) job over every customer",
    repeat=3,
    warmup=1,
    heavy=True,
)
def nightly_lifecycle(env) -> Measure:
    from django.conf import settings

    customers = env.sql("SELECT count(*) FROM contacts_contact WHERE phase IN ('retention', 'extension')")[0][0]
    # The same move in the plainest statement: last purchase per contact, one UPDATE (no history rows).
    sql = """
        UPDATE contacts_contact c SET phase = 'churned', phase_changed_at = now(), updated_at = now()
        FROM (SELECT contact_id, max(placed_at) AS last FROM sales_order WHERE status = 'paid' GROUP BY contact_id) l
        WHERE l.contact_id = c.id AND c.phase IN ('retention', 'extension')
          AND (((l.last AT TIME ZONE %(zone)s)::date + %(window)s + 1)::timestamp AT TIME ZONE %(zone)s) <= now()
    """
    params = {"zone": settings.TIME_ZONE, "window": settings.CHURN_WINDOW_DAYS}
    return Measure(
        run=lambda: env.child("lifecycle_churn"),
        floor=_floor_statement(sql, params),
        floor_title="one UPDATE … FROM (last paid order per contact), rolled back",
        notes=[f"{customers:,} customers checked; the job and its floor are rolled back after each run"],
    )


@scenario(
    "sales.nightly_loyalty",
    "Nightly loyalty tier recompute over every contact",
    repeat=3,
    warmup=1,
    heavy=True,
)
def nightly_loyalty(env) -> Measure:
    from django.conf import settings
    from django.utils import timezone

    from sales.loyalty import window_start

    holders = env.sql("SELECT count(*) FROM sales_contacttier")[0][0]
    # Every contact's tier from its last 12 months in one upsert (no history, no timeline).
    sql = """
        INSERT INTO sales_contacttier (contact_id, tier_id, since)
        SELECT contact_id, tier_id, now() FROM (
            SELECT s.contact_id, (
                SELECT t.id FROM sales_loyaltytier t
                WHERE t.active AND s.spend >= t.min_spend AND s.purchases >= t.min_purchase_count
                ORDER BY t.rank DESC LIMIT 1) AS tier_id
            FROM (SELECT contact_id, sum(total) FILTER (WHERE currency = %(currency)s) AS spend,
                         count(*) AS purchases
                  FROM sales_order WHERE status = 'paid' AND placed_at >= %(since)s AND placed_at <= now()
                  GROUP BY contact_id) s
        ) earned WHERE tier_id IS NOT NULL
        ON CONFLICT (contact_id) DO UPDATE SET tier_id = EXCLUDED.tier_id, since = EXCLUDED.since
        WHERE sales_contacttier.tier_id IS DISTINCT FROM EXCLUDED.tier_id
    """
    params = {"currency": settings.DEFAULT_CURRENCY, "since": window_start(timezone.now())}
    return Measure(
        run=lambda: env.child("tiers_recompute"),
        floor=_floor_statement(sql, params),
        floor_title="one INSERT … ON CONFLICT of every standing's tier, rolled back",
        notes=[f"{holders:,} tier holders; the job and its floor are rolled back after each run"],
    )
