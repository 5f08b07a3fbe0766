"""Formats for the en locale: Indian grouping, day first."""

from crm.formats.indian import *  # noqa: F403

DATE_FORMAT = "j M Y"
