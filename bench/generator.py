"""The generator's machinery: ratios, stages, a registry of table generators, and the run that feeds
their rows to PostgreSQL COPY.

A data set is a pure function of its Plan (contacts, seed, as-of date, ratios). Work is cut into
stages ("setup", "companies", "contacts", …) and each stage into chunks of a fixed size; a chunk's
random numbers come from its own generator seeded with (seed, stage, chunk, generator name), so a
chunk comes out the same whichever process makes it and whatever else is registered. The chunks are
made in worker processes (or inline) and copied in order by the main process.

Adding the data of another app is a few lines in its own module, imported by `bench.datasets`:

    ratio("orders", 10.0, "orders per contact")

    @generator("orders", stage="contacts", tables={"sales_order": ("contact_id", "placed_at", ...)})
    def orders(ctx, chunk):
        for person in chunk.data["people"]:          # what the client-database generators decided
            chunk.out("sales_order").append(...)     # one COPY text line per row

Generators of a stage run in the order they were registered; what one leaves in `chunk.data` the
next ones read. `after_load` functions run set-based SQL once all rows are in (before the indexes).
"""

import collections
import dataclasses
import datetime
import multiprocessing
import random
import time
from collections.abc import Callable

from django.apps import apps
from django.db import connections
from django.db.models.fields import NOT_PROVIDED

from bench.copyload import Clock, CopyLoader

# Bumped when the same plan would produce different data: a stored data set of another version is rebuilt.
GENERATOR_VERSION = 2


def load_generators() -> None:
    """Register every app's generators (their modules are listed in bench.datasets)."""
    import bench.datasets  # noqa: F401


# Ratios -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Ratio:
    name: str
    default: float
    help: str


RATIOS: dict[str, Ratio] = {}


def ratio(name: str, default: float, help: str) -> None:
    RATIOS[name] = Ratio(name, default, help)


@dataclasses.dataclass(frozen=True)
class Plan:
    contacts: int
    seed: int
    as_of: datetime.date
    ratios: tuple[tuple[str, float], ...] = ()

    @classmethod
    def make(cls, *, contacts: int, seed: int, as_of: datetime.date | None = None, ratios: dict | None = None):
        load_generators()
        unknown = set(ratios or {}) - set(RATIOS)
        if unknown:
            raise ValueError(f"unknown ratios: {', '.join(sorted(unknown))} (known: {', '.join(sorted(RATIOS))})")
        values = {name: r.default for name, r in RATIOS.items()} | {k: float(v) for k, v in (ratios or {}).items()}
        as_of = as_of or datetime.datetime.now(datetime.UTC).date()
        return cls(contacts=contacts, seed=seed, as_of=as_of, ratios=tuple(sorted(values.items())))

    def ratio(self, name: str) -> float:
        return dict(self.ratios)[name]

    def count(self, name: str) -> int:
        """How many of a thing the ratio `name` gives for this plan's number of contacts."""
        return max(0, round(self.contacts * self.ratio(name)))

    @property
    def as_of_ts(self) -> int:
        """The start of the as-of day (UTC), in seconds: the data's "now"; only tasks fall due later."""
        return int(datetime.datetime.combine(self.as_of, datetime.time(), datetime.UTC).timestamp())

    def describe(self) -> dict:
        return {
            "contacts": self.contacts,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "ratios": dict(self.ratios),
            "version": GENERATOR_VERSION,
            "generators": [g.name for g in GENERATORS],
        }


# Stages, generators, finishing steps -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    count: Callable[[Plan], int]  # items of the stage (ids 1..count); a stage of one chunk says 1
    chunk_size: int


@dataclasses.dataclass(frozen=True)
class Generator:
    name: str
    stage: str
    tables: dict[str, tuple[str, ...]]
    function: Callable


STAGES: list[Stage] = []
GENERATORS: list[Generator] = []
AFTER_LOAD: list[tuple[str, Callable]] = []


def stage(name: str, *, count: Callable[[Plan], int], chunk_size: int, before: str | None = None) -> None:
    """A stage of work; stages run in order (`before` puts a new one ahead of an existing one)."""
    new = Stage(name, count, chunk_size)
    if before is None:
        STAGES.append(new)
    else:
        STAGES.insert([s.name for s in STAGES].index(before), new)


def generator(name: str, *, stage: str, tables: dict[str, tuple[str, ...]]):
    def register(function):
        if any(g.name == name for g in GENERATORS):
            raise ValueError(f"generator {name} is registered twice")
        GENERATORS.append(Generator(name, stage, {t: tuple(c) for t, c in tables.items()}, function))
        return function

    return register


def after_load(name: str):
    """Set-based SQL run once all rows are loaded: function(cursor, plan)."""

    def register(function):
        AFTER_LOAD.append((name, function))
        return function

    return register


def reference(function):
    """Data every chunk may need (users, teams, …), computed once per process from the plan."""
    REFERENCE.append(function)
    return function


REFERENCE: list[Callable] = []


# The work of one chunk ---------------------------------------------------------------------------


class Context:
    """What every chunk sees: the plan, its clock and the reference data (`ctx.ref`)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.now = plan.as_of_ts
        # Data reaches back ten years and may look forward one (tasks due later).
        self.clock = Clock(plan.as_of - datetime.timedelta(days=3660), plan.as_of + datetime.timedelta(days=400))
        self.ref: dict = {}
        for function in REFERENCE:
            function(self)

    def rng(self, *parts) -> random.Random:
        return random.Random("/".join(str(part) for part in (self.plan.seed, *parts)))  # noqa: S311 - test data


class Chunk:
    def __init__(self, ctx: Context, stage: Stage, index: int):
        self.ctx = ctx
        self.stage = stage
        self.index = index
        total = stage.count(ctx.plan)
        self.start = index * stage.chunk_size + 1
        self.stop = min(total, (index + 1) * stage.chunk_size) + 1
        self.data: dict = {}
        self._out: dict[str, list[str]] = {}

    @property
    def ids(self) -> range:
        """The ids of this chunk's items (contacts, companies, …)."""
        return range(self.start, self.stop)

    def rng(self, name: str) -> random.Random:
        return self.ctx.rng(self.stage.name, self.index, name)

    def out(self, table: str) -> list[str]:
        """The COPY text lines of `table` made in this chunk so far."""
        return self._out.setdefault(table, [])

    def buffers(self) -> list[tuple[str, bytes, int]]:
        return [(table, "".join(lines).encode(), len(lines)) for table, lines in self._out.items() if lines]


def chunk_count(stage: Stage, plan: Plan) -> int:
    total = stage.count(plan)
    return -(-total // stage.chunk_size) if total > 0 else 0


def make_chunk(ctx: Context, stage: Stage, index: int) -> list[tuple[str, bytes, int]]:
    chunk = Chunk(ctx, stage, index)
    for gen in GENERATORS:
        if gen.stage == stage.name:
            gen.function(ctx, chunk)
    return chunk.buffers()


_WORKER_CONTEXT: Context | None = None


def _worker_chunk(stage_name: str, index: int):
    stage = next(s for s in STAGES if s.name == stage_name)
    return make_chunk(_WORKER_CONTEXT, stage, index)


# Tables ----------------------------------------------------------------------------------------


def _models_by_table() -> dict:
    return {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}


def table_columns() -> dict[str, tuple[str, ...]]:
    """Every table some generator fills, with its columns (the union over generators)."""
    load_generators()
    result: dict[str, list[str]] = {}
    for gen in GENERATORS:
        for table, columns in gen.tables.items():
            known = result.setdefault(table, list(columns))
            if list(columns) != known:
                raise ValueError(f"generators disagree on the columns of {table}")
    return {table: tuple(columns) for table, columns in result.items()}


def check_tables() -> None:
    """Each generated table is a model's, its columns exist, and no required column is left out
    (a field added to a model later fails here, loudly, instead of in the middle of a COPY)."""
    models = _models_by_table()
    for table, columns in table_columns().items():
        model = models.get(table)
        if model is None:
            raise ValueError(f"{table} is not the table of any installed model")
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{table} has no column {', '.join(sorted(unknown))}")
        for column, field in fields.items():
            optional = field.null or field.primary_key or field.db_default is not NOT_PROVIDED
            if column not in columns and not optional:
                raise ValueError(f"{table}.{column} is required but no generator writes it")


def table_order() -> list[str]:
    """The generated tables with the ones a foreign key points to first (the order of COPY)."""
    models = _models_by_table()
    tables = list(table_columns())
    depends = {table: set() for table in tables}
    for table in tables:
        for field in models[table]._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                target = field.related_model._meta.db_table
                if target in depends and target != table:
                    depends[table].add(target)
    ordered, done = [], set()
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in done and depends[t] <= done]
        if not ready:
            raise ValueError("the generated tables' foreign keys form a cycle")
        ordered.extend(ready)
        done.update(ready)
    return ordered


# The run ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    seconds: float
    rows: dict[str, int]
    timings: dict[str, float]


def generate(*, plan: Plan, using: str = "default", workers: int = 1, log=print, drop_indexes: bool = True) -> Result:
    """Empty the generated tables of database `using` and fill them for `plan`, in one transaction.

    `workers` processes make the chunks (0: this process makes them, in order, itself)."""
    global _WORKER_CONTEXT
    check_tables()
    started = time.perf_counter()
    columns = table_columns()
    order = {table: n for n, table in enumerate(table_order())}
    ctx = Context(plan)
    pool = None
    if workers > 0:
        _WORKER_CONTEXT = ctx
        if not connections[using].in_atomic_block:
            # the children never use it, but need not hold a copy of this process's connection either
            connections[using].close()
        pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        with CopyLoader(using=using, tables=list(order), drop_indexes=drop_indexes, log=log) as loader:
            for stage_ in STAGES:
                chunks = chunk_count(stage_, plan)
                if not chunks:
                    continue
                began = time.perf_counter()
                results = (
                    _pooled(pool, stage_, chunks, workers)
                    if pool
                    else (make_chunk(ctx, stage_, index) for index in range(chunks))
                )
                for buffers in results:
                    for table, data, rows in sorted(buffers, key=lambda item: order[item[0]]):
                        loader.copy(table, columns[table], data, rows)
                log(f"  stage {stage_.name}: {chunks} chunks in {time.perf_counter() - began:.1f} s")
            for name, function in AFTER_LOAD:
                began = time.perf_counter()
                with connections[using].cursor() as cursor:
                    function(cursor, plan)
                log(f"  after load {name}: {time.perf_counter() - began:.1f} s")
            loader.timings["load"] = time.perf_counter() - started
            stamp = {**plan.describe(), "rows": loader.rows, "markers": ctx.ref.get("markers", {})}
            loader.finish(stamp=stamp)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _WORKER_CONTEXT = None
    return Result(seconds=time.perf_counter() - started, rows=dict(loader.rows), timings=dict(loader.timings))


def _pooled(pool, stage_: Stage, chunks: int, workers: int):
    """Chunks in order, at most a few made ahead of the copy (bounded memory)."""
    pending = collections.deque()
    ahead = 2 * workers + 1
    next_index = 0
    while next_index < chunks or pending:
        while next_index < chunks and len(pending) < ahead:
            pending.append(pool.apply_async(_worker_chunk, (stage_.name, next_index)))
            next_index += 1
        yield pending.popleft().get()


def filled_tables(using: str) -> list[str]:
    """The generated tables that already hold rows."""
    connection = connections[using]
    filled = []
    with connection.cursor() as cursor:
        for table in table_order():
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")  # noqa: S608 - our table names
            if cursor.fetchone()[0]:
                filled.append(table)
    return filled
