"""Fixtures shared by every app's tests."""

import os
from types import SimpleNamespace

import pytest

# Playwright's sync API runs an event loop in the test thread; the live server's ORM calls
# happen in another thread, but Django's guard only sees "an event loop is running".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # live_server serves static files from the finders; the manifest storage needs collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def org(db):
    """Two teams and an admin: the cast of every access-rule test.

    team_a (not sharing): manager_a, rep_a1, rep_a2; team_b (sharing): manager_b, rep_b1, rep_b2.
    """
    from crm.models import Role
    from crm.tests.factories import TeamFactory, UserFactory

    manager_a = UserFactory(username="manager_a", role=Role.MANAGER)
    manager_b = UserFactory(username="manager_b", role=Role.MANAGER)
    rep_a1, rep_a2 = UserFactory(username="rep_a1"), UserFactory(username="rep_a2")
    rep_b1, rep_b2 = UserFactory(username="rep_b1"), UserFactory(username="rep_b2")
    admin = UserFactory(username="admin_user", role=Role.ADMIN, is_staff=True, is_superuser=True)
    team_a = TeamFactory(name="Team A", manager=manager_a, members=[rep_a1, rep_a2])
    team_b = TeamFactory(name="Team B", manager=manager_b, members=[rep_b1, rep_b2], shares_records=True)
    return SimpleNamespace(
        admin=admin,
        manager_a=manager_a,
        manager_b=manager_b,
        rep_a1=rep_a1,
        rep_a2=rep_a2,
        rep_b1=rep_b1,
        rep_b2=rep_b2,
        team_a=team_a,
        team_b=team_b,
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser build."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _empty_test_redis():
    """Start each run with this test process's own Redis database empty (no stale tasks)."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(scope="module")
def celery_worker():
    """A real Celery worker, in a thread of the test process, consuming from the real Redis."""
    import celery.contrib.testing.tasks  # noqa: F401 - registers the ping task the start-up check sends
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=True, shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free local port; Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()
