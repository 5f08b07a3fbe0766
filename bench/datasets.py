"""The generators of every app, registered by importing their modules (client database first: the
sales and support generators read the people and purchase plans it makes)."""

from bench import client_db, sales_db, support_db  # noqa: F401
