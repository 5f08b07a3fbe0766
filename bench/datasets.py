"""The generators of every app, registered by importing their modules (client database first)."""

from bench import client_db  # noqa: F401
