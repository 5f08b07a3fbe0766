"""Putting a benchmark data set back as it was after a scenario that writes (an import): every row
with an id above the marks taken before is deleted, in one transaction, and the tables vacuumed.

The marks are kept in the data set's stamp while the scenario runs, so a run killed half way is
cleaned up by the next one."""

from django.db import connection, transaction

from bench.copyload import stamp_read, stamp_write


def id_marks() -> dict[str, int]:
    """The highest id of every table of the schema that has an integer id."""
    marks = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND column_name = 'id' AND data_type IN ('integer', 'bigint')
            ORDER BY table_name
            """
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table name from the catalogue
            marks[table] = cursor.fetchone()[0]
    return marks


def restore(marks: dict[str, int], *, vacuum: bool = True) -> dict[str, int]:
    """Delete the rows added since `marks` were taken; returns how many went, per table."""
    deleted = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Children and parents go in the same statement set; their foreign keys need no checking.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table, mark in marks.items():
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)} WHERE id > %s", [mark])  # noqa: S608
            if cursor.rowcount:
                deleted[table] = cursor.rowcount
    if vacuum and deleted:
        with connection.cursor() as cursor:
            for table in deleted:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return deleted


def remember(marks: dict[str, int]) -> None:
    stamp = stamp_read("default") or {}
    with connection.cursor() as cursor:
        stamp_write(cursor, {**stamp, "pending_restore": marks})


def forget() -> None:
    stamp = stamp_read("default") or {}
    stamp.pop("pending_restore", None)
    with connection.cursor() as cursor:
        stamp_write(cursor, stamp)


def restore_pending() -> dict[str, int]:
    """Finish the restore of a run that stopped half way, if there is one."""
    stamp = stamp_read("default") or {}
    marks = stamp.get("pending_restore")
    if not marks:
        return {}
    deleted = restore(marks)
    forget()
    return deleted
