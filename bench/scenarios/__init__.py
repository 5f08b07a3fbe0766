"""The scenarios of `make bench`, one module per area, registered with bench.harness.scenario.

Later issues add a module here and import it below; the generators of their data register in their
own module listed in bench.datasets.
"""

from bench.scenarios import client_db, http, sales  # noqa: F401
