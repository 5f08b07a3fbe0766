"""Loading generated rows with PostgreSQL COPY, in one transaction on one connection.

The load truncates the tables it fills and copies into them with FREEZE (rows are written already
visible to everyone, so no VACUUM pass is needed afterwards), drops their secondary indexes first and
builds them again at the end (one sort per index instead of a million index insertions), skips the
foreign-key triggers when it may (the generator writes consistent rows; the tests check them), then
sets the sequences past the ids it wrote and ANALYZEs. A load that fails leaves nothing behind: the
transaction rolls back the truncation, the dropped indexes and the rows together."""

import datetime
import io
import json
import time
from collections.abc import Iterable

from django.db import connections, transaction

COPY_READ_SIZE = 1 << 20
STAMP_PREFIX = "bench-dataset:"


# COPY's text format ---------------------------------------------------------------------------

NULL = "\\N"


def escape(text: str) -> str:
    """A value for COPY's text format (pool strings need none; free text and JSON go through here)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def json_text(value) -> str:
    return escape(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class Clock:
    """Timestamps as integer seconds since the epoch, written as text fast (a table per day and second)."""

    def __init__(self, first: datetime.date, last: datetime.date):
        epoch = datetime.date(1970, 1, 1)
        self.first_day = (first - epoch).days
        days = (last - first).days + 1
        self._days = [(first + datetime.timedelta(days=n)).isoformat() for n in range(days)]
        self._seconds = [f" {h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)]

    def text(self, ts: int) -> str:
        day, second = divmod(ts, 86400)
        return self._days[day - self.first_day] + self._seconds[second]


# The loader ----------------------------------------------------------------------------------


class CopyLoader:
    """One transaction that empties `tables`, takes their rows by COPY and rebuilds their indexes.

    Use as a context manager; `copy` for each buffer of rows, `finish` once at the end."""

    def __init__(self, *, using: str, tables: Iterable[str], drop_indexes: bool = True, log=None):
        self.using = using
        self.tables = list(tables)
        self.drop_indexes = drop_indexes
        self.log = log or (lambda message: None)
        self.connection = connections[using]
        self.indexes: list[tuple[str, str, str]] = []  # (table, name, definition)
        self.rows: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._atomic = None

    def __enter__(self):
        self.started = time.perf_counter()
        self._atomic = transaction.atomic(using=self.using)
        self._atomic.__enter__()
        try:
            self._begin()
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        return self._atomic.__exit__(exc_type, exc, tb)

    def _cursor(self):
        return self.connection.cursor()

    def _begin(self) -> None:
        with self._cursor() as cursor:
            # For this transaction only: no wait for the WAL flush at commit, memory for index builds.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.superuser = bool(cursor.fetchone()[0])
            if self.superuser:
                # Foreign-key triggers are not fired for these rows (they are consistent by construction).
                cursor.execute("SET LOCAL session_replication_role = replica")
            names = ", ".join(self.connection.ops.quote_name(table) for table in self.tables)
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            if self.drop_indexes:
                cursor.execute(
                    """
                    SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid)
                    FROM pg_index x
                    JOIN pg_class c ON c.oid = x.indrelid
                    JOIN pg_class i ON i.oid = x.indexrelid
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
                    ORDER BY c.relname, i.relname
                    """,
                    [self.tables],
                )
                self.indexes = cursor.fetchall()
                for _table, name, _definition in self.indexes:
                    cursor.execute(f"DROP INDEX {self.connection.ops.quote_name(name)}")

    def copy(self, table: str, columns: Iterable[str], data: bytes, rows: int) -> None:
        if not data:
            return
        quote = self.connection.ops.quote_name
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH (FREEZE)"
        started = time.perf_counter()
        with self._cursor() as cursor:
            cursor.cursor.copy_expert(sql, io.BytesIO(data), size=COPY_READ_SIZE)
        self.timings[table] = self.timings.get(table, 0.0) + time.perf_counter() - started
        self.rows[table] = self.rows.get(table, 0) + rows

    def execute(self, sql: str, params=None) -> None:
        with self._cursor() as cursor:
            cursor.execute(sql, params)

    def finish(self, *, stamp: dict | None = None) -> None:
        """Indexes built again, sequences set, statistics gathered, and the data set stamped complete."""
        with self._cursor() as cursor:
            started = time.perf_counter()
            for table, name, definition in self.indexes:
                began = time.perf_counter()
                cursor.execute(definition)
                if time.perf_counter() - began > 2:
                    self.log(f"  index {name} on {table}: {time.perf_counter() - began:.1f} s")
            self.timings["indexes"] = time.perf_counter() - started
            for table in self.tables:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.connection.ops.quote_name(table)])
                sequence = cursor.fetchone()[0]
                if sequence:
                    highest = f"SELECT max(id) FROM {self.connection.ops.quote_name(table)}"  # noqa: S608 - our table
                    cursor.execute(f"SELECT setval(%s, coalesce(({highest}), 0) + 1, false)", [sequence])
            started = time.perf_counter()
            for table in self.tables:
                cursor.execute(f"ANALYZE {self.connection.ops.quote_name(table)}")
            self.timings["analyze"] = time.perf_counter() - started
            if stamp is not None:
                stamp_write(cursor, {**stamp, "seconds": round(time.perf_counter() - self.started, 1)})


def stamp_write(cursor, stamp: dict) -> None:
    """The data set's description as the comment of its database (written in the load's transaction,
    so it says "complete" exactly when the rows are there)."""
    cursor.execute("SELECT current_database()")
    name = cursor.fetchone()[0]
    text = STAMP_PREFIX + json.dumps(stamp, sort_keys=True)
    quoted = cursor.connection.cursor().mogrify("%s", [text]).decode()
    cursor.execute(f'COMMENT ON DATABASE "{name}" IS {quoted}')


def stamp_read(using: str) -> dict | None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    text = row[0] if row else None
    if not text or not text.startswith(STAMP_PREFIX):
        return None
    return json.loads(text[len(STAMP_PREFIX) :])


def stamp_clear(using: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
        cursor.execute(f'COMMENT ON DATABASE "{name}" IS NULL')
