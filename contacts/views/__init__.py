"""Pages of the client database, one module per area; each module lists its own URL patterns."""
