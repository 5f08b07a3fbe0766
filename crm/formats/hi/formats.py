"""Formats for the hi locale: Indian grouping, day first."""

from crm.formats.indian import *  # noqa: F403

DATE_FORMAT = "j F Y"
