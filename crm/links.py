"""Absolute links for emails, which are read outside the CRM and sent by workers with no request."""

from django.conf import settings

# Where `make run` serves the CRM; production sets CRM_SITE_URL.
DEVELOPMENT_SITE_URL = "http://localhost:8000"


def absolute_url(path: str, base: str = "") -> str:
    """`path` on the CRM's own address: `base` (a request's), else SITE_URL, else the development one."""
    return (base or settings.SITE_URL or DEVELOPMENT_SITE_URL).rstrip("/") + path
