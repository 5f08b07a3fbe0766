"""Hand-written SQL of the loyalty programme: the set-based nightly tier recompute and the bulk
issue of reward codes. Values are always parameters; only table names from the models and this
module's fixed fragments are spliced in. Each statement has a test comparing it with a plain recount."""

import datetime
from decimal import Decimal

from django.db import connection

from contacts.models import Activity, ActivityKind, Contact
from sales.models import ContactTier, LoyaltyTier, Order, OrderStatus, RewardCode, TierChange

# Advisory lock of the tier recompute (its own namespace, apart from sales.sql's lifecycle lock).
LOCK_NAMESPACE = 0x10A1
LOCK_TIERS = 1

_T = {
    "activity": Activity._meta.db_table,
    "contact": Contact._meta.db_table,
    "contact_tier": ContactTier._meta.db_table,
    "order": Order._meta.db_table,
    "reward_code": RewardCode._meta.db_table,
    "tier": LoyaltyTier._meta.db_table,
    "tier_change": TierChange._meta.db_table,
    "paid": OrderStatus.PAID.value,
    "loyalty": ActivityKind.LOYALTY.value,
}

# Spend (in one currency) and number of purchases per contact with a purchase in the window.
_STANDING = """
    SELECT o.contact_id,
           COALESCE(sum(o.total) FILTER (WHERE o.currency = %(currency)s), 0) AS spend,
           count(*) AS purchases
    FROM {order} o
    WHERE o.status = '{paid}' AND o.placed_at >= %(since)s AND o.placed_at <= %(now)s
    GROUP BY o.contact_id
""".format(**_T)  # noqa: S608

# Each standing's tier: the active tier of highest rank whose two thresholds it meets.
_EARNED = """
    SELECT s.contact_id, s.spend, s.purchases, best.id AS tier_id
    FROM standing s
    LEFT JOIN LATERAL (
        SELECT t.id FROM {tier} t
        WHERE t.active AND s.spend >= t.min_spend AND s.purchases >= t.min_purchase_count
        ORDER BY t.rank DESC LIMIT 1
    ) best ON true
""".format(**_T)  # noqa: S608

_RECOMPUTE = """
    WITH standing AS MATERIALIZED ({standing}),
    earned AS ({earned}),
    changed AS MATERIALIZED (
        SELECT COALESCE(e.contact_id, ct.contact_id) AS contact_id, ct.tier_id AS from_tier,
               e.tier_id AS to_tier, COALESCE(e.spend, 0) AS spend, COALESCE(e.purchases, 0) AS purchases
        FROM earned e
        FULL JOIN {contact_tier} ct ON ct.contact_id = e.contact_id
        WHERE ct.tier_id IS DISTINCT FROM e.tier_id
    ),
    upserted AS (
        INSERT INTO {contact_tier} (contact_id, tier_id, since)
        SELECT contact_id, to_tier, %(now)s FROM changed WHERE to_tier IS NOT NULL
        ON CONFLICT (contact_id) DO UPDATE SET tier_id = EXCLUDED.tier_id, since = EXCLUDED.since
    ),
    dropped AS (
        DELETE FROM {contact_tier} ct USING changed
        WHERE ct.contact_id = changed.contact_id AND changed.to_tier IS NULL
    ),
    history AS (
        INSERT INTO {tier_change} (contact_id, from_tier_id, to_tier_id, at, spend, purchase_count, reason)
        SELECT contact_id, from_tier, to_tier, %(now)s, spend, purchases, %(reason)s FROM changed
    )
    INSERT INTO {activity} (kind, contact_id, company_id, at, direction, by_id, summary, body, outcome, ref)
    SELECT '{loyalty}', ch.contact_id, c.company_id, %(now)s, '', NULL,
           left(replace(replace(
               CASE WHEN ch.from_tier IS NULL THEN %(summary_gained)s
                    WHEN ch.to_tier IS NULL THEN %(summary_lost)s
                    WHEN t_to.rank > t_from.rank THEN %(summary_up)s
                    ELSE %(summary_down)s END,
               '{{from}}', COALESCE(t_from.name, '')), '{{to}}', COALESCE(t_to.name, '')), 300),
           replace(replace(%(body)s, '{{spend}}', ch.spend::text), '{{count}}', ch.purchases::text),
           '', ''
    FROM changed ch
    JOIN {contact} c ON c.id = ch.contact_id
    LEFT JOIN {tier} t_from ON t_from.id = ch.from_tier
    LEFT JOIN {tier} t_to ON t_to.id = ch.to_tier
""".format(standing=_STANDING, earned=_EARNED, **_T)  # noqa: S608 - table names come from the models

_STANDINGS = f"WITH standing AS ({_STANDING}), earned AS ({_EARNED}) SELECT * FROM earned"  # noqa: S608


def tiers_lock() -> None:
    """Take the recompute's lock for the current transaction: two runs at once wait for each other."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, LOCK_TIERS])


def batch_lock(batch: str) -> None:
    """Take a batch's lock for the current transaction: two deliveries of one issue job run one after the other."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, batch])


def standings(*, now: datetime.datetime, since: datetime.datetime, currency: str) -> dict[int, tuple]:
    """{contact_id: (spend, purchases, tier_id or None)} of every contact with a purchase in the
    window, as the recompute sees them (for the tests and for checks)."""
    with connection.cursor() as cursor:
        cursor.execute(_STANDINGS, {"now": now, "since": since, "currency": currency})
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def tiers_recompute(
    *,
    now: datetime.datetime,
    since: datetime.datetime,
    currency: str,
    reason: str,
    summaries: dict[str, str],
    body: str,
) -> int:
    """Give every contact the tier their purchases in [since, now] earn, in one statement:
    ContactTier rows are inserted, moved or deleted only for contacts whose tier changed, and
    each change writes a TierChange and a timeline item. Returns the number of changes.

    `summaries` (gained, lost, up, down) and `body` are translated templates with {from}, {to},
    {spend} and {count} placeholders, filled in by the statement."""
    params = {
        "now": now,
        "since": since,
        "currency": currency,
        "reason": reason[:300],
        "summary_gained": summaries["gained"],
        "summary_lost": summaries["lost"],
        "summary_up": summaries["up"],
        "summary_down": summaries["down"],
        "body": body,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE, params)
        return cursor.rowcount


_ISSUE = """
    WITH wanted AS (
        SELECT * FROM unnest(%(contact_ids)s::bigint[], %(codes)s::varchar[]) AS w(contact_id, code)
    ),
    issued AS (
        INSERT INTO {reward_code}
            (code, contact_id, kind, value, currency, expires_at, tier_id, reason, batch, issued_at, issued_by_id)
        SELECT w.code, w.contact_id, %(kind)s, %(value)s, %(currency)s, %(expires_at)s, %(tier_id)s, %(reason)s,
               %(batch)s, %(now)s, %(by_id)s
        FROM wanted w
        ON CONFLICT (code) DO NOTHING
        RETURNING id, contact_id
    )
    INSERT INTO {activity} (kind, contact_id, company_id, at, direction, by_id, summary, body, outcome, ref)
    SELECT '{loyalty}', i.contact_id, c.company_id, %(now)s, '', %(by_id)s, %(summary)s, %(body)s, '',
           'sales.rewardcode:' || i.id
    FROM issued i JOIN {contact} c ON c.id = i.contact_id
    RETURNING contact_id
""".format(**_T)  # noqa: S608 - table names come from the models; values are parameters


def codes_insert(
    *,
    pairs: list[tuple[int, str]],
    kind: str,
    value: Decimal,
    currency: str,
    expires_at: datetime.datetime,
    tier_id: int | None,
    reason: str,
    batch: str,
    now: datetime.datetime,
    by_id: int | None,
    summary: str,
    body: str,
) -> set[int]:
    """Insert one code per (contact_id, code) pair with its timeline item, in one statement; a code
    that clashes with an existing one is skipped. Returns the ids of the contacts that got theirs."""
    params = {
        "contact_ids": [contact_id for contact_id, _code in pairs],
        "codes": [code for _contact_id, code in pairs],
        "kind": kind,
        "value": value,
        "currency": currency,
        "expires_at": expires_at,
        "tier_id": tier_id,
        "reason": reason,
        "batch": batch,
        "now": now,
        "by_id": by_id,
        "summary": summary[:300],
        "body": body,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ISSUE, params)
        return {row[0] for row in cursor.fetchall()}
