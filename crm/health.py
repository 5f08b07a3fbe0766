"""The checks behind /healthz: the database, Redis, and a Celery worker that answers."""

import redis
from django.conf import settings
from django.db import connection

from crm.celery import app as celery_app

WORKER_PING_TIMEOUT = 1.0


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False


def check_redis() -> bool:
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


def check_worker() -> bool:
    try:
        return bool(celery_app.control.ping(timeout=WORKER_PING_TIMEOUT))
    except Exception:  # noqa: BLE001 - a broker that is down raises many kinds of error
        return False


def health() -> dict[str, bool]:
    state = {"database": check_database(), "redis": check_redis()}
    # Without Redis there is no way to reach a worker; don't wait for the ping to time out.
    state["worker"] = check_worker() if state["redis"] else False
    return state
