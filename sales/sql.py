"""Hand-written SQL of the sales app: the set-based nightly churn move and the products-bought-together
figures behind cross-sell suggestions. Values are always parameters; only this module's fixed
fragments are spliced in. Each statement has a test that compares it with a plain recount."""

import datetime

from django.db import connection

from contacts.models import Activity, Contact, PhaseChange
from sales.models import Order, OrderLine, OrderStatus, ProductRelation, RelationKind, RelationSource

# Namespace and key of the advisory lock between purchases (shared) and the churn job (exclusive).
LOCK_NAMESPACE = 0x5A1E
LOCK_CHURN = 1

# A pair of products must be bought together in at least this many baskets to be suggested.
MIN_TOGETHER = 3
# ... and more often than chance would have it (lift above this).
MIN_LIFT = 1.0


def lifecycle_lock(*, shared: bool) -> None:
    """Take the lifecycle lock for the current transaction (released at its end)."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_NAMESPACE, LOCK_CHURN])


# Churn ----------------------------------------------------------------------------------

_CHURN = f"""
    WITH candidate AS (
        SELECT c.id, c.phase AS from_phase, c.phase_changed_at,
               last.placed_at AS last_purchase,
               COALESCE(last.placed_at, c.phase_changed_at) AS clock
        FROM {Contact._meta.db_table} c
        LEFT JOIN LATERAL (
            SELECT o.placed_at FROM {Order._meta.db_table} o
            WHERE o.contact_id = c.id AND o.status = '{OrderStatus.PAID}'
            ORDER BY o.placed_at DESC LIMIT 1
        ) last ON true
        WHERE c.phase IN ('retention', 'extension')
    ),
    lapsed AS (
        SELECT id, from_phase, phase_changed_at, last_purchase, clock,
               (((clock AT TIME ZONE %(zone)s)::date + %(window)s + 1)::timestamp AT TIME ZONE %(zone)s) AS lapse_at
        FROM candidate
    ),
    moved AS (
        UPDATE {Contact._meta.db_table} c
        SET phase = 'churned',
            phase_changed_at = CASE WHEN lapsed.lapse_at > lapsed.phase_changed_at THEN lapsed.lapse_at
                                    ELSE %(now)s END,
            updated_at = %(now)s
        FROM lapsed
        WHERE c.id = lapsed.id AND c.phase = lapsed.from_phase AND lapsed.lapse_at <= %(now)s
        RETURNING c.id, lapsed.from_phase, c.phase_changed_at AS at,
            replace(
                CASE WHEN lapsed.last_purchase IS NULL THEN %(reason_since_phase)s ELSE %(reason_since_purchase)s END,
                '{{date}}', to_char(lapsed.clock AT TIME ZONE %(zone)s, 'YYYY-MM-DD')
            ) AS reason
    ),
    history AS (
        INSERT INTO {PhaseChange._meta.db_table} (contact_id, from_phase, to_phase, at, by_id, rule, reason)
        SELECT id, from_phase, 'churned', at, NULL, %(rule)s, reason FROM moved
    )
    INSERT INTO {Activity._meta.db_table}
        (kind, contact_id, company_id, at, direction, by_id, summary, body, outcome, ref)
    SELECT 'phase', id, NULL, at, '', NULL,
           CASE from_phase WHEN 'retention' THEN %(from_retention)s ELSE %(from_extension)s END,
           reason, '', ''
    FROM moved
"""  # noqa: S608 - table names come from the models; values are parameters


def churn_lapsed_customers(
    *,
    now: datetime.datetime,
    zone: str,
    window_days: int,
    rule: str,
    summaries: dict[str, str],
    reason_since_purchase: str,
    reason_since_phase: str,
) -> int:
    """Move every retention/extension contact whose churn clock (last purchase, else when they
    entered the phase) ran out by `now` to churned; one PhaseChange and one timeline item each,
    shaped as `contacts.services.phase_change` writes them. A move is dated when the window ran
    out, or `now` when the contact entered its phase after that (history stays in time order).
    Returns the number moved."""
    params = {
        "now": now,
        "zone": zone,
        "window": window_days,
        "rule": rule,
        "from_retention": summaries["retention"],
        "from_extension": summaries["extension"],
        "reason_since_purchase": reason_since_purchase[:500],
        "reason_since_phase": reason_since_phase[:500],
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHURN, params)
        return cursor.rowcount


# Products bought together ---------------------------------------------------------------

# A basket is the set of products of one paid order, or of all the paid orders of one contact.
_BASKETS = {
    "order": f"""
        SELECT DISTINCT l.order_id AS basket, l.product_id
        FROM {OrderLine._meta.db_table} l JOIN {Order._meta.db_table} o ON o.id = l.order_id
        WHERE o.status = '{OrderStatus.PAID}'
    """,  # noqa: S608
    "contact": f"""
        SELECT DISTINCT o.contact_id AS basket, l.product_id
        FROM {OrderLine._meta.db_table} l JOIN {Order._meta.db_table} o ON o.id = l.order_id
        WHERE o.status = '{OrderStatus.PAID}'
    """,  # noqa: S608
}

_PAIRS = """
    WITH basket AS MATERIALIZED ({baskets}),
    basket_count AS (SELECT count(DISTINCT basket) AS n FROM basket),
    item AS (SELECT product_id, count(*) AS n FROM basket GROUP BY product_id),
    pair AS (
        SELECT a.product_id AS from_id, b.product_id AS to_id, count(*) AS n
        FROM basket a JOIN basket b ON b.basket = a.basket AND b.product_id <> a.product_id
        GROUP BY a.product_id, b.product_id
        HAVING count(*) >= %(min_together)s
    ),
    scored AS (
        SELECT pair.from_id, pair.to_id, pair.n AS together,
               pair.n::float8 / basket_count.n AS support,
               pair.n::float8 / item_from.n AS confidence,
               pair.n::float8 * basket_count.n / (item_from.n::float8 * item_to.n) AS lift
        FROM pair
        CROSS JOIN basket_count
        JOIN item item_from ON item_from.product_id = pair.from_id
        JOIN item item_to ON item_to.product_id = pair.to_id
    )
"""

_SELECT_PAIRS = "SELECT from_id, to_id, together, support, confidence, lift FROM scored WHERE lift > %(min_lift)s"

_REFRESH = f"""
    {{pairs}},
    good AS ({_SELECT_PAIRS}),
    upserted AS (
        INSERT INTO {ProductRelation._meta.db_table} AS r
            (from_product_id, to_product_id, kind, source, support, confidence, lift, together_count,
             computed_at, accepted, created_at)
        SELECT from_id, to_id, '{RelationKind.CROSS_SELL}', '{RelationSource.SUGGESTED}', support, confidence, lift,
               together, %(now)s, false, %(now)s
        FROM good
        ON CONFLICT (from_product_id, to_product_id) DO UPDATE
            SET support = EXCLUDED.support, confidence = EXCLUDED.confidence, lift = EXCLUDED.lift,
                together_count = EXCLUDED.together_count, computed_at = EXCLUDED.computed_at
        RETURNING r.id
    ),
    stale AS (
        DELETE FROM {ProductRelation._meta.db_table} r
        WHERE r.source = '{RelationSource.SUGGESTED}' AND NOT r.accepted AND r.dismissed_at IS NULL
          AND r.id NOT IN (SELECT id FROM upserted)
        RETURNING r.id
    ),
    faded AS (
        UPDATE {ProductRelation._meta.db_table} r
        SET support = NULL, confidence = NULL, lift = NULL, together_count = NULL, computed_at = %(now)s
        WHERE (r.accepted OR r.dismissed_at IS NOT NULL) AND r.computed_at IS NOT NULL
          AND r.id NOT IN (SELECT id FROM upserted)
        RETURNING r.id
    )
    SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale), (SELECT count(*) FROM faded)
"""  # noqa: S608 - table names come from the models; values are parameters


def _pairs_sql(basket: str) -> str:
    if basket not in _BASKETS:
        raise ValueError(f"unknown basket {basket!r}")
    return _PAIRS.format(baskets=_BASKETS[basket])


def products_bought_together(*, basket: str = "order", min_together: int = MIN_TOGETHER) -> list[tuple]:
    """(from_id, to_id, together, support, confidence, lift) of every ordered pair of products
    bought together in at least `min_together` baskets, whatever its lift."""
    sql = _pairs_sql(basket) + " SELECT from_id, to_id, together, support, confidence, lift FROM scored"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, {"min_together": min_together})
        return cursor.fetchall()


def relations_refresh(
    *, now: datetime.datetime, basket: str = "order", min_together: int = MIN_TOGETHER, min_lift: float = MIN_LIFT
) -> dict[str, int]:
    """Upsert the figures of every pair bought together into ProductRelation: new pairs become
    pending suggestions; existing rows (set by hand, accepted or dismissed) only get fresh
    figures; pending suggestions that no longer qualify go, and the figures of decided rows
    whose pair no longer qualifies are cleared. One statement."""
    sql = _REFRESH.replace("{pairs}", _pairs_sql(basket))
    params = {"now": now, "min_together": min_together, "min_lift": min_lift}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        upserted, removed, cleared = cursor.fetchone()
    return {"upserted": upserted, "removed": removed, "cleared": cleared}
