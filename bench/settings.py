"""Settings of benchmark runs: production's (DEBUG off, the real middleware and templates), with what
a run on a developer's machine needs: a throwaway secret key, plain HTTP, the test client's host name,
Celery tasks run in the process that queues them (so nothing reaches a broker other processes read),
and an in-process cache. DATABASE_URL names the bench_… database."""

import os

from django.core.management.utils import get_random_secret_key

os.environ.setdefault("DJANGO_SECRET_KEY", get_random_secret_key() + get_random_secret_key())
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from crm.settings import *  # noqa: F403
from crm.settings import STORAGES

DEBUG = False
# Pages render {% static %} without a collectstatic run.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Plain HTTP to gunicorn on 127.0.0.1 (HTTP load scenarios): cookies without the Secure flag.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
