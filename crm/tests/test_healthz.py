"""/healthz without a worker, and with Redis down."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_public_and_fails_without_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "database": True, "redis": True, "worker": False}


def test_healthz_fails_when_redis_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] is False and response.json()["worker"] is False
