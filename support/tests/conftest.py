"""Fixtures of the support tests."""

import importlib

import pytest


@pytest.fixture(autouse=True)
def sla_policies(db):
    """The default SLA policies of the data migration; a transactional test before this one
    flushed the tables, migration rows included."""
    from support.models import SLAPolicy

    defaults = importlib.import_module("support.migrations.0002_default_sla_policies").DEFAULTS
    for priority, (first_response, resolution) in defaults.items():
        SLAPolicy.objects.get_or_create(
            priority=priority,
            defaults={"first_response_minutes": first_response, "resolution_minutes": resolution},
        )
