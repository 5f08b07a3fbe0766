"""Benchmark databases on the project's PostgreSQL server: bench_<contacts>_<seed>, created and migrated
when missing, generated once, and reused as long as their stamp says they are complete and of this plan."""

import copy
import datetime
import os
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from bench import generator
from bench.copyload import stamp_read

SIZES = {"tiny": 200, "small": 10_000, "medium": 100_000, "full": 1_000_000}
MAINTENANCE_ALIAS = "bench_maintenance"


def size_contacts(size: str) -> int:
    """ "small" -> 10,000; a number of contacts is taken as it is."""
    if size in SIZES:
        return SIZES[size]
    contacts = int(size.replace("_", "").replace(",", ""))
    if contacts < 1:
        raise ValueError("a data set has at least one contact")
    return contacts


def database_name(contacts: int, seed: int) -> str:
    return f"bench_{contacts}_{seed}"


def _register(alias: str, name: str) -> str:
    config = copy.deepcopy(connections.settings["default"])
    config["NAME"] = name
    config["CONN_MAX_AGE"] = 0
    settings.DATABASES[alias] = config
    connections.settings[alias] = config
    return alias


def use_database(name: str) -> str:
    """A connection alias (the database's name) for another database on the default server."""
    if name not in settings.DATABASES:
        _register(name, name)
    return name


def _maintenance():
    if MAINTENANCE_ALIAS not in settings.DATABASES:
        _register(MAINTENANCE_ALIAS, "postgres")
    return connections[MAINTENANCE_ALIAS]


def database_exists(name: str) -> bool:
    with _maintenance().cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def create_database(name: str) -> None:
    if not name.startswith("bench_"):
        raise ValueError("benchmark databases are named bench_…")
    connection = _maintenance()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def database_url(name: str) -> str:
    """The URL of database `name` on the default database's server (DATABASE_URL's form)."""
    config = connections.settings["default"]
    user = urllib.parse.quote(config.get("USER") or "", safe="")
    password = urllib.parse.quote(config.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{name}"


def migrate(name: str) -> None:
    """Migrate database `name` in a process of its own whose default database it is (a data migration
    that forgets its schema editor's alias still writes to the right database)."""
    env = {**os.environ, "DATABASE_URL": database_url(name)}
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--no-input", "-v", "0"]
    subprocess.run(command, env=env, check=True)  # noqa: S603 - our own manage.py


def matches(stamp: dict | None, plan: generator.Plan) -> bool:
    """Whether a stored data set is complete and was made for this plan (whatever its as-of date)."""
    if not stamp:
        return False
    wanted = plan.describe()
    return all(stamp.get(key) == wanted[key] for key in ("contacts", "seed", "ratios", "version", "generators"))


@dataclass
class Dataset:
    alias: str
    name: str
    stamp: dict
    generated_seconds: float | None  # None when an existing data set was reused


def ensure(
    *,
    contacts: int,
    seed: int,
    ratios: dict | None = None,
    as_of: datetime.date | None = None,
    workers: int = 1,
    regenerate: bool = False,
    log=print,
) -> Dataset:
    import bench.datasets  # noqa: F401 - registers the generators

    name = database_name(contacts, seed) if not ratios else database_name(contacts, seed) + "_custom"
    if not database_exists(name):
        log(f"Creating the database {name}")
        create_database(name)
    alias = use_database(name)
    began = time.perf_counter()
    migrate(name)
    log(f"Migrated {name} in {time.perf_counter() - began:.1f} s")
    plan = generator.Plan.make(contacts=contacts, seed=seed, as_of=as_of, ratios=ratios)
    stamp = stamp_read(alias)
    if matches(stamp, plan) and not regenerate:
        log(f"Reusing the data set in {name} (generated for {stamp['as_of']})")
        return Dataset(alias=alias, name=name, stamp=stamp, generated_seconds=None)
    log(f"Generating {contacts:,} contacts (seed {seed}) into {name}")
    result = generator.generate(plan=plan, using=alias, workers=workers, log=log)
    log(f"Generated in {result.seconds:.1f} s")
    return Dataset(alias=alias, name=name, stamp=stamp_read(alias), generated_seconds=result.seconds)
