"""Hand-written SQL of the contacts app: COPY of new rows, and the set-based duplicate rules (one
INSERT … SELECT per rule).

`copy_rows` writes rows that need no model instance (the emails, phones, tags and history of new
contacts) with one COPY per table, and `copy_instances` new contacts, their keys taken from the
table's sequence: an import of a thousand contacts writes eight thousand rows.

Each rule inserts candidate pairs (first_id < second_id) into the review queue and leaves pairs
already there untouched (ON CONFLICT DO NOTHING), so a scan can run any number of times. Every
statement is set-based so that a nightly scan of a million contacts takes minutes: equal emails
and phones are grouped and joined on their indexed columns; similar names are compared within
blocks (a company; a city and either name key) by hash join, because a trigram index
lookup per contact (10-20 ms each with common Indian names) would take hours for a million; a scan
of a few contacts (after a create or an import) does use the trigram GIN index on display_name.
Values are always passed as parameters; only fixed fragments of this module are spliced in.
"""

import datetime
import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection

# A value shared by more contacts than this (info@…, a switchboard number) says nothing about
# who is the same person, and its pairs would grow quadratically.
MAX_SHARED = 50
# A city-and-name-key or a company with more contacts than this is too common a name to compare
# within (and its pairs would grow quadratically).
MAX_NAME_BLOCK = 2000
# pg_trgm similarity above which two names in the same company or city are worth a look.
NAME_SIMILARITY = 0.6
# ... and above which they are when their first words differ: "Rahjesh Kumar" ~ "Rajesh Kumar" is
# 0.69, but two common names a letter apart ("Rakesh Kumar" ~ "Rajesh Kumar", "Prita" ~ "Priya
# Sharma") are 0.62 and usually two people.
NAME_SIMILARITY_OTHER_FIRST_WORD = 0.65

_INSERT = """
    INSERT INTO contacts_duplicatecandidate (first_id, second_id, reason, score, status, found_at)
"""
_ON_CONFLICT = " ON CONFLICT (first_id, second_id) DO NOTHING"
# The two blocks of a name within a city: its first word with the first letter of its second word
# ("rajesh k" for Rajesh Kumar and Rajesh Kumaar), and its second word with the first letter of its
# first ("kumar r" for Rajesh Kumar and Rahjesh Kumar). A misspelling of one word leaves the other
# key as it was, so the two names meet in one of the blocks; a name misspelt in both words does not.
_NAME_KEY = "lower(split_part(display_name, ' ', 1) || ' ' || left(split_part(display_name, ' ', 2), 1))"
_SECOND_KEY = "lower(split_part(display_name, ' ', 2) || ' ' || left(display_name, 1))"
_B_NAME_KEY = _NAME_KEY.replace("display_name", "b.display_name")
_B_SECOND_KEY = _SECOND_KEY.replace("display_name", "b.display_name")


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
    """Pairs with similar display names (pg_trgm similarity) that share a company, or that share a
    city (without regard to case) and one of the two name keys (`_NAME_KEY`, `_SECOND_KEY`); a pair
    whose first words differ needs NAME_SIMILARITY_OTHER_FIRST_WORD.

    The full scan compares within blocks, joined by hash: a company, or a city and a name key; a
    block larger than MAX_NAME_BLOCK (a very common name in a big city) is left out, so the work
    stays near-linear. A scan of some contacts looks their similar names up in the trigram index."""
    if contact_ids is None:
        return f"""
            WITH people AS (
                SELECT id, display_name, company_id, lower(city) AS city,
                       {_NAME_KEY} AS name_key, {_SECOND_KEY} AS second_key
                FROM contacts_contact
            ),
            name_blocks AS (
                SELECT city, name_key FROM people WHERE city <> ''
                GROUP BY city, name_key HAVING count(*) BETWEEN 2 AND %(max_block)s
            ),
            second_blocks AS (
                SELECT city, second_key FROM people WHERE city <> ''
                GROUP BY city, second_key HAVING count(*) BETWEEN 2 AND %(max_block)s
            ),
            company_blocks AS (
                SELECT company_id FROM people WHERE company_id IS NOT NULL
                GROUP BY company_id HAVING count(*) BETWEEN 2 AND %(max_block)s
            ),
            pairs AS (
                SELECT a.id AS a_id, b.id AS b_id, similarity(a.display_name, b.display_name) AS score,
                       %(threshold)s AS needed
                FROM name_blocks k
                JOIN people a ON a.city = k.city AND a.name_key = k.name_key
                JOIN people b ON b.city = k.city AND b.name_key = k.name_key AND b.id > a.id
                UNION ALL
                SELECT a.id, b.id, similarity(a.display_name, b.display_name),
                       CASE WHEN a.name_key = b.name_key THEN %(threshold)s ELSE %(other_threshold)s END
                FROM second_blocks k
                JOIN people a ON a.city = k.city AND a.second_key = k.second_key
                JOIN people b ON b.city = k.city AND b.second_key = k.second_key AND b.id > a.id
                UNION ALL
                SELECT a.id, b.id, similarity(a.display_name, b.display_name), %(threshold)s
                FROM company_blocks k
                JOIN people a ON a.company_id = k.company_id
                JOIN people b ON b.company_id = k.company_id AND b.id > a.id
            )
            {_INSERT}
            SELECT a_id, b_id, 'name', max(score), 'open', now()
            FROM pairs WHERE score > needed
            GROUP BY a_id, b_id
            {_ON_CONFLICT}
        """  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters
    return f"""
        WITH subject AS (
            SELECT id, display_name, company_id, lower(city) AS city,
                   {_NAME_KEY} AS name_key, {_SECOND_KEY} AS second_key
            FROM contacts_contact WHERE id = ANY(%(ids)s)
        ),
        pairs AS (
            SELECT s.id AS a_id, b.id AS b_id, similarity(s.display_name, b.display_name) AS score,
                   CASE WHEN {_B_NAME_KEY} = s.name_key THEN %(threshold)s ELSE %(other_threshold)s END AS needed
            FROM subject s
            JOIN contacts_contact b ON b.display_name %% s.display_name AND b.id <> s.id
            WHERE s.city <> '' AND lower(b.city) = s.city
              AND ({_B_NAME_KEY} = s.name_key OR {_B_SECOND_KEY} = s.second_key)
            UNION ALL
            SELECT s.id, b.id, similarity(s.display_name, b.display_name), %(threshold)s
            FROM subject s
            JOIN contacts_contact b ON b.company_id = s.company_id AND b.id <> s.id
        )
        {_INSERT}
        SELECT least(a_id, b_id), greatest(a_id, b_id), 'name', max(score), 'open', now()
        FROM pairs WHERE score > needed
        GROUP BY least(a_id, b_id), greatest(a_id, b_id)
        {_ON_CONFLICT}
    """  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).translate(_COPY_ESCAPES)


def copy_rows(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows` (values of `fields`, attribute names such as "contact_id") into the table of
    `model` with one COPY; the other columns get their field's default. Returns the number of rows."""
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    others = [field for field in opts.concrete_fields if not field.primary_key and field not in given]
    tail = "".join("\t" + _copy_text(field.get_default()) for field in others)
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(map(_copy_text, row)) + tail + "\n")
        count += 1
    if count:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in [*given, *others])
        buffer.seek(0)
        # copy_expert is psycopg2's own: wrapped so that a violated constraint is Django's IntegrityError.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.copy_expert(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN", buffer)
    return count


def next_ids(model, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table, taken from its sequence (for rows written by COPY)."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # The sequence is looked up once (MATERIALIZED), not once per id: that lookup costs ten times the nextval.
        cursor.execute(
            """
            WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS name)
            SELECT nextval(sequence.name) FROM sequence, generate_series(1, %s)
            """,
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_instances(instances: Sequence) -> None:
    """Insert new model instances (all of one model) with one COPY; each gets its primary key from
    the table's sequence and is then as if saved."""
    if not instances:
        return
    model = type(instances[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for instance, pk in zip(instances, next_ids(model, len(instances)), strict=True):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, connection.alias
    copy_rows(
        model,
        [model._meta.pk.attname, *(field.attname for field in fields)],
        ((instance.pk, *(getattr(instance, field.attname) for field in fields)) for instance in instances),
    )


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
    params = {
        "ids": contact_ids,
        "threshold": threshold,
        "other_threshold": max(threshold, NAME_SIMILARITY_OTHER_FIRST_WORD),
        "max_block": MAX_NAME_BLOCK,
    }
    return _run(_name_rule(contact_ids=contact_ids), params)


def duplicates_scan_lock() -> bool:
    """Take the transaction-level lock of the full scan; False when another scan holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('contacts.duplicates_find'))")
        return cursor.fetchone()[0]


# Imports ---------------------------------------------------------------------------------------

# The contacts an import batch creates, as the batch's COPY wrote them, for the rows that come from
# them (emails, phones, tags, first phase, history): one INSERT … SELECT each instead of a row each
# from Python. A TEMP table of the transaction: nothing to clean up, and no other session sees it.
IMPORT_STAGE = "import_new_contacts"
IMPORT_STAGE_COLUMNS = ["contact_id", "phase", "display_name", "emails", "phones", "tags"]
# Separates the values of a list (emails, phones, tags) in one column of the stage; clean text never
# holds it (clean_text drops control characters).
LIST_SEPARATOR = "\x1f"
COPY_NULL = "\\N"


def copy_escape(value: str) -> str:
    """Text in COPY's text format."""
    return value.translate(_COPY_ESCAPES)


def copy_layout(model, fields: Sequence[str]) -> tuple[str, str]:
    """The column list of a COPY of `fields` (attribute names) into `model`'s table, and the text
    that ends each of its lines: the other columns' defaults."""
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    others = [field for field in opts.concrete_fields if not field.primary_key and field not in given]
    tail = "".join("\t" + _copy_text(field.get_default()) for field in others)
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in [*given, *others]), tail


def copy_text(model, columns: str, buffer: io.StringIO) -> None:
    """COPY lines already in COPY's text format (`copy_layout`) into `model`'s table."""
    buffer.seek(0)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def import_keys_present(keys: list[str]) -> set[str]:
    """The import keys among `keys` that a contact has already (the partial unique index answers)."""
    if not keys:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT import_key FROM contacts_contact WHERE import_key = ANY(%s) AND import_key <> ''", [keys]
        )
        return {row[0] for row in cursor.fetchall()}


def channel_holders(*, channel: str, values: list[str], owner_ids: list[int] | None) -> list[tuple[str, int]]:
    """(value, contact id) of the contacts that have one of `values` as an email ("email") or a phone
    ("phone"), among the contacts of `owner_ids` (None: everyone's)."""
    if not values or owner_ids == []:
        return []
    table, column = {"email": ("contacts_contactemail", "email"), "phone": ("contacts_contactphone", "number")}[channel]
    if owner_ids is None:
        query = f"SELECT {column}, contact_id FROM {table} WHERE {column} = ANY(%s)"  # noqa: S608
        params = [values]
    else:
        query = f"""
            SELECT x.{column}, x.contact_id FROM {table} x JOIN contacts_contact c ON c.id = x.contact_id
            WHERE x.{column} = ANY(%s) AND c.owner_id = ANY(%s)
        """  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters
        params = [values, owner_ids]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def import_stage_create() -> None:
    """An empty stage for the new contacts of an import batch (dropped with the transaction)."""
    with connection.cursor() as cursor:
        # A batch that ran in a savepoint of the same transaction (tests) may have left one behind.
        cursor.execute(
            f"""
            DROP TABLE IF EXISTS pg_temp.{IMPORT_STAGE};
            CREATE TEMP TABLE {IMPORT_STAGE} (
                contact_id bigint NOT NULL, phase text NOT NULL, display_name text NOT NULL,
                emails text NOT NULL, phones text NOT NULL, tags text NOT NULL
            ) ON COMMIT DROP
            """
        )


def import_stage_copy(buffer: io.StringIO) -> None:
    buffer.seek(0)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {IMPORT_STAGE} ({', '.join(IMPORT_STAGE_COLUMNS)}) FROM STDIN", buffer)


def import_stage_fan_out(*, by_id: int | None, via: str, at: datetime.datetime, reason: str, phone_kind: str) -> None:
    """The rows each staged new contact comes with, as contacts_create writes them: its emails and
    phones (the first one primary), its tags (missing tags created), its first phase (PhaseChange)
    and its "created" line in the history (FieldChange). One round trip."""
    params = {"by": by_id, "via": via, "at": at, "reason": reason, "kind": phone_kind, "sep": LIST_SEPARATOR}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO contacts_contactemail (contact_id, email, is_primary)
            SELECT s.contact_id, e.value, e.n = 1
            FROM {IMPORT_STAGE} s, unnest(string_to_array(s.emails, %(sep)s)) WITH ORDINALITY AS e(value, n)
            WHERE s.emails <> '' ORDER BY s.contact_id, e.n;

            INSERT INTO contacts_contactphone (contact_id, number, kind, is_primary)
            SELECT s.contact_id, p.value, %(kind)s, p.n = 1
            FROM {IMPORT_STAGE} s, unnest(string_to_array(s.phones, %(sep)s)) WITH ORDINALITY AS p(value, n)
            WHERE s.phones <> '' ORDER BY s.contact_id, p.n;

            INSERT INTO contacts_tag (name)
            SELECT DISTINCT t.name FROM {IMPORT_STAGE} s, unnest(string_to_array(s.tags, %(sep)s)) AS t(name)
            WHERE s.tags <> '' ORDER BY t.name
            ON CONFLICT (name) DO NOTHING;

            INSERT INTO contacts_contact_tags (contact_id, tag_id)
            SELECT s.contact_id, tag.id
            FROM {IMPORT_STAGE} s, unnest(string_to_array(s.tags, %(sep)s)) AS t(name)
            JOIN contacts_tag tag ON tag.name = t.name
            WHERE s.tags <> '' ORDER BY s.contact_id, tag.id;

            INSERT INTO contacts_phasechange (contact_id, from_phase, to_phase, at, by_id, rule, reason)
            SELECT contact_id, '', phase, %(at)s, %(by)s, '', %(reason)s FROM {IMPORT_STAGE} ORDER BY contact_id;

            INSERT INTO contacts_fieldchange
                (record_type, record_id, field, old_value, new_value, changed_by_id, changed_at, via)
            SELECT 'contact', contact_id, 'created', '', display_name, %(by)s, %(at)s, %(via)s
            FROM {IMPORT_STAGE} ORDER BY contact_id;
            """,  # noqa: S608 - only this module's fixed fragments are spliced in; values are parameters
            params,
        )
