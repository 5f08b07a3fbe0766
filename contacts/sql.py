"""Hand-written SQL of the contacts app: the set-based duplicate rules (one INSERT … SELECT per rule).

Each rule inserts candidate pairs (first_id < second_id) into the review queue and leaves pairs
already there untouched (ON CONFLICT DO NOTHING), so a scan can run any number of times. Every
statement is index-backed so that a nightly scan of a million contacts takes minutes:
equal emails and phones join on their b-tree indexes, similar names within a company join on the
company index, similar names within a city use the trigram GIN index on display_name (`%`).
Values are always passed as parameters; only fixed fragments of this module are spliced in.
"""

from django.db import connection

# A value shared by more contacts than this (info@…, a switchboard number) says nothing about
# who is the same person, and its pairs would grow quadratically.
MAX_SHARED = 50
# pg_trgm similarity above which two names in the same company or city are worth a look.
NAME_SIMILARITY = 0.6

_INSERT = """
    INSERT INTO contacts_duplicatecandidate (first_id, second_id, reason, score, status, found_at)
"""
_ON_CONFLICT = " ON CONFLICT (first_id, second_id) DO NOTHING"


def _equal_value_rule(*, table: str, column: str, reason: str, contact_ids: list[int] | None) -> str:
    """Pairs of contacts that have the same stored (normalised) value in `table`.`column`."""
    scoped = contact_ids is not None
    keys = f"WHERE {column} IN (SELECT {column} FROM {table} WHERE contact_id = ANY(%(ids)s))" if scoped else ""  # noqa: S608
    pair_filter = "WHERE a.contact_id = ANY(%(ids)s) OR b.contact_id = ANY(%(ids)s)" if scoped else ""
    return f"""
        WITH shared AS (
            SELECT {column} AS value FROM {table} {keys}
            GROUP BY {column}
            HAVING count(DISTINCT contact_id) BETWEEN 2 AND %(max_shared)s
        )
        {_INSERT}
        SELECT DISTINCT a.contact_id, b.contact_id, '{reason}', 1.0, 'open', now()
        FROM shared
        JOIN {table} a ON a.{column} = shared.value
        JOIN {table} b ON b.{column} = shared.value AND b.contact_id > a.contact_id
        {pair_filter}
        {_ON_CONFLICT}
    """  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters


def _name_rule(*, contact_ids: list[int] | None) -> str:
    """Pairs with similar display names that share a company, or a city (compared without case)."""
    scoped = contact_ids is not None
    subject = "WHERE a.id = ANY(%(ids)s)" if scoped else ""
    # In a full scan each pair is met from its lower id; in a scoped one from the given contact.
    order = "b.id <> a.id" if scoped else "b.id > a.id"
    return f"""
        {_INSERT}
        SELECT least(a.id, b.id), greatest(a.id, b.id), 'name', max(pair.score), 'open', now()
        FROM contacts_contact a
        CROSS JOIN LATERAL (
            SELECT b.id, similarity(a.display_name, b.display_name) AS score
            FROM contacts_contact b
            WHERE a.company_id IS NOT NULL AND b.company_id = a.company_id AND {order}
              AND similarity(a.display_name, b.display_name) > %(threshold)s
            UNION ALL
            SELECT b.id, similarity(a.display_name, b.display_name)
            FROM contacts_contact b
            WHERE a.city <> '' AND b.display_name %% a.display_name AND {order}
              AND lower(b.city) = lower(a.city)
        ) AS pair
        JOIN contacts_contact b ON b.id = pair.id
        {subject}
        GROUP BY least(a.id, b.id), greatest(a.id, b.id)
        {_ON_CONFLICT}
    """  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters


def _run(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def duplicates_insert_email_pairs(*, contact_ids: list[int] | None = None) -> int:
    """Contacts sharing an email address (ContactEmail.email is stored lower-cased)."""
    sql = _equal_value_rule(table="contacts_contactemail", column="email", reason="email", contact_ids=contact_ids)
    return _run(sql, {"ids": contact_ids, "max_shared": MAX_SHARED})


def duplicates_insert_phone_pairs(*, contact_ids: list[int] | None = None) -> int:
    """Contacts sharing a phone number (ContactPhone.number is stored in E.164)."""
    sql = _equal_value_rule(table="contacts_contactphone", column="number", reason="phone", contact_ids=contact_ids)
    return _run(sql, {"ids": contact_ids, "max_shared": MAX_SHARED})


def duplicates_insert_name_pairs(*, contact_ids: list[int] | None = None, threshold: float = NAME_SIMILARITY) -> int:
    """Contacts with similar names in the same company or the same city; score = trigram similarity.

    Must run inside a transaction: the `%` operator's threshold is set for this transaction only."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(threshold)])
    return _run(_name_rule(contact_ids=contact_ids), {"ids": contact_ids, "threshold": threshold})


def duplicates_scan_lock() -> bool:
    """Take the transaction-level lock of the full scan; False when another scan holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('contacts.duplicates_find'))")
        return cursor.fetchone()[0]
