"""The scenarios of `make bench`, one module per area, registered with bench.harness.scenario.

Later issues add a module here and import it below. The ones waiting for their data:
- sales.kanban: GET the pipeline board with 5,000 open deals as the manager (env.get); floor: one
  SELECT of the open deals of the pipeline with their stage, ORDER BY stage, position LIMIT per column.
- sales.nightly_lifecycle / sales.loyalty: call the nightly task's function over the whole data set
  (heavy=True, in env.child for its peak memory); floor: the single UPDATE … FROM (SELECT …) that
  moves the same contacts, run in a transaction rolled back.
The generators of their data (orders from each Person's lifecycle moves, deals, tickets) register in
their own module listed in bench.datasets.
"""

from bench.scenarios import client_db, http  # noqa: F401
