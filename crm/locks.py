"""Advisory locks that keep one worker on one job across processes and machines."""

import contextlib

from django.db import DatabaseError, connection


@contextlib.contextmanager
def worker_lock(namespace: int, key: int):
    """Yield whether this session got the lock (namespace, key); a session-level advisory lock, so a
    worker that dies lets it go with its connection, and a resumed job is not run twice at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
