"""The benchmark harness: a registry of scenarios, each run several times after a warm-up, each against
its floor in the same run (the same work by the plainest means: one raw SQL statement, or COPY), and
the results as a table and a JSON file with the machine they ran on.

A scenario is a function that prepares its work and returns a Measure:

    @scenario("contacts.page", "Contact page, 1,000 timeline items")
    def contact_page(env):
        client = env.client(env.markers["manager_username"])
        url = f"/contacts/{env.markers['timeline_contact_id']}/"
        return Measure(run=lambda: env.get(client, url), floor=lambda: env.sql("SELECT …", [...]))

`run` may return a dict of figures for that repetition ("seconds" replaces the wall-clock time, e.g.
the time a child process measured itself; "rows", "rss_mb", "db_ms", "queries" are reported).
Benchmarks print figures; they never fail on a time.
"""

import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass
class Measure:
    run: Callable[[], dict | None]
    floor: Callable[[], object] | None = None
    floor_title: str = ""
    rows: int | None = None  # rows one repetition handles (for rows/s)
    floor_rows: int | None = None  # rows the floor handles, when not the same
    explain: Callable[[], list[tuple[str, list]]] | None = None  # the queries whose plans are checked
    notes: list[str] = dataclasses.field(default_factory=list)
    cleanup: Callable[[], None] | None = None
    after_each: Callable[[], None] | None = None  # undo what one repetition wrote (not timed)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    setup: Callable
    repeat: int
    warmup: int
    heavy: bool  # minutes at full size: fewer repetitions there


SCENARIOS: dict[str, Scenario] = {}
# Work a scenario runs in a fresh process of its own (`manage.py bench_run --child NAME`), so that the
# peak memory measured is the job's: function(**arguments) -> dict of figures (JSON).
CHILD_TASKS: dict[str, Callable[..., dict]] = {}


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, the high-water mark of its own address space.
    (getrusage's ru_maxrss is not: a child started by fork + exec inherits the parent's peak, so a
    child of a large bench process would report the parent's size.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_task(name: str):
    def register(function):
        CHILD_TASKS[name] = function
        return function

    return register


def scenario(name: str, title: str, *, repeat: int = 15, warmup: int = 2, heavy: bool = False):
    def register(function):
        SCENARIOS[name] = Scenario(name, title, function, repeat, warmup, heavy)
        return function

    return register


def selected(patterns: list[str] | None) -> list[Scenario]:
    """The scenarios whose names start with one of `patterns` (all when none), in registration order."""
    return [s for s in SCENARIOS.values() if not patterns or any(s.name.startswith(p) for p in patterns)]


# Statistics ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (with few samples p95 is the slowest one, which is what it should say)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "min_ms": round(min(ms), 2),
        "count": len(ms),
        # every sample of a short scenario; a load test's thousands are summed up above
        "samples_ms": [round(v, 2) for v in ms] if len(ms) <= 100 else [],
    }


# Query capture -----------------------------------------------------------------------------------


class QueryLog:
    """The SQL a piece of code runs through Django, with the time spent in the database."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.queries: list[tuple[str, list]] = []
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            if self.keep and not many:
                self.queries.append((sql, list(params or [])))


@contextmanager
def query_log(keep: bool = False):
    log = QueryLog(keep)
    with connection.execute_wrapper(log):
        yield log


def seq_scans(queries: list[tuple[str, list]], relation: str = "contacts_contact") -> list[dict]:
    """The queries whose plan reads `relation` with a sequential scan, with the plan (to see why)."""
    found = []
    with connection.cursor() as cursor:
        for sql, params in queries:
            if relation not in sql or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            if _has_seq_scan(plan[0]["Plan"], relation):
                cursor.execute("EXPLAIN " + sql, params)
                text = "\n".join(row[0] for row in cursor.fetchall())
                found.append({"query": " ".join(sql.split())[:2000], "params": [str(p) for p in params], "plan": text})
    return found


def _has_seq_scan(node: dict, relation: str) -> bool:
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == relation:
        return True
    return any(_has_seq_scan(child, relation) for child in node.get("Plans", []))


# Running ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Env:
    """What scenarios see: the data set's size and markers, and helpers for the real code paths."""

    contacts: int
    stamp: dict
    full_size: bool = False  # heavy scenarios run once
    isolate: bool = True  # heavy scenarios run in a child process (peak memory of the job alone)
    log: Callable = print
    options: dict = dataclasses.field(default_factory=dict)  # e.g. {"import_rows": 100000}

    @property
    def markers(self) -> dict:
        return self.stamp.get("markers", {})

    def user(self, username: str):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(username=username)

    def client(self, username: str):
        from django.test import Client

        client = Client()
        client.force_login(self.user(username))
        return client

    def get(self, client, url: str, **headers) -> dict:
        """One page through the whole stack; its status must be 200. Returns the database share."""
        with query_log() as log:
            response = client.get(url, headers=headers)
            body = response.content
        if response.status_code != 200:
            raise AssertionError(f"GET {url} answered {response.status_code}")
        return {"db_ms": log.seconds * 1000, "queries": log.count, "bytes": len(body)}

    def sql(self, sql: str, params=None) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def child(self, task: str, **arguments) -> dict:
        """Run child task `task` (bench.scenarios: CHILD_TASKS) in a fresh process; its JSON answer."""
        if not self.isolate:
            return CHILD_TASKS[task](**arguments)
        command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "bench_run",
            "--child",
            task,
            "--arguments",
            json.dumps(arguments),
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603 - our own manage.py
        if done.returncode != 0:
            raise RuntimeError(f"child {task} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def run_scenario(item: Scenario, env: Env, *, repeat: int | None = None, warmup: int | None = None) -> dict:
    result: dict = {"name": item.name, "title": item.title}
    began = time.perf_counter()
    measure = None
    try:
        measure = item.setup(env)
        # at full size a heavy scenario (minutes) runs once, without a warm-up
        if repeat is None:
            repeat = 1 if item.heavy and env.full_size else item.repeat
        warmup = warmup if warmup is not None else (0 if item.heavy and env.full_size else item.warmup)
        ours, floors, extras = [], [], []
        for n in range(warmup + repeat):
            started = time.perf_counter()
            figures = measure.run() or {}
            elapsed = figures.pop("seconds", None) or (time.perf_counter() - started)
            samples = figures.pop("samples", None) or [elapsed]
            if measure.after_each:
                measure.after_each()
            floor_elapsed = None
            if measure.floor is not None:
                started = time.perf_counter()
                measure.floor()
                floor_elapsed = time.perf_counter() - started
            if n >= warmup:
                ours.extend(samples)
                extras.append(figures)
                if floor_elapsed is not None:
                    floors.append(floor_elapsed)
        result.update(summary(ours))
        if floors:
            floor = summary(floors)
            result["floor"] = {"title": measure.floor_title, **floor}
            result["ratio"] = round(result["median_ms"] / floor["median_ms"], 2) if floor["median_ms"] else None
        if measure.rows:
            result["rows"] = measure.rows
            result["rows_per_s"] = round(measure.rows / (result["median_ms"] / 1000))
            if floors:
                floor_rows = measure.floor_rows or measure.rows
                result["floor"]["rows_per_s"] = round(floor_rows / (result["floor"]["median_ms"] / 1000))
                # the share of the floor's rate we reach (the "at least 25 % of raw COPY")
                result["share_of_floor_rate"] = round(result["rows_per_s"] / result["floor"]["rows_per_s"], 3)
        for key in ("db_ms", "queries", "rss_mb", "rss_base_mb", "rate_per_s"):
            values = [figures[key] for figures in extras if key in figures]
            if values:
                result[key] = round(statistics.median(values), 2) if key != "rss_mb" else round(max(values), 1)
        details = [figures.get("details") for figures in extras if figures.get("details")]
        if details:
            result["details"] = details[-1]
        if measure.explain is not None:
            queries = measure.explain()
            scans = seq_scans(queries)
            result["plans"] = {"queries": len(queries), "seq_scans_of_contacts": scans}
        result["notes"] = measure.notes
    except Exception as error:  # noqa: BLE001 - a broken scenario is reported, the others still run
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()[-4000:]
    finally:
        if measure is not None and measure.cleanup is not None:
            try:
                measure.cleanup()
            except Exception as error:  # noqa: BLE001 - reported like the scenario's own errors
                result.setdefault("error", f"cleanup: {type(error).__name__}: {error}")
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result


def run(scenarios: list[Scenario], env: Env, *, repeat: int | None = None, warmup: int | None = None) -> list[dict]:
    results = []
    for item in scenarios:
        env.log(f"  {item.name} …")
        result = run_scenario(item, env, repeat=repeat, warmup=warmup)
        env.log("    " + (result.get("error") or line(result)))
        results.append(result)
    return results


# Reporting -------------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), 0
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 2**20, 1),
        "postgresql": postgres,
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            text=True,
            check=False,
            cwd=settings.BASE_DIR,
        )
    except OSError:
        return ""
    return done.stdout.strip()


def line(result: dict) -> str:
    text = f"median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
    if "ratio" in result:
        text += f", floor {result['floor']['median_ms']:.1f} ms, ratio {result['ratio']}"
    if "rows_per_s" in result:
        text += f", {result['rows_per_s']:,} rows/s"
    if "rss_mb" in result:
        text += f", peak RSS {result['rss_mb']} MB"
    if "rate_per_s" in result:
        text += f", {result['rate_per_s']:,.0f} requests/s, p99 {result['p99_ms']:.0f} ms"
    return text


def table(results: list[dict]) -> str:
    """The results as a Markdown table (printed, and pasted into the README)."""
    columns = ["scenario", "median ms", "p95 ms", "floor ms", "ours/floor", "DB ms", "queries"]
    columns += ["rate (floor)", "peak RSS MB", "plans"]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['title']} | error: {r['error'][:80]} | | | | | | | | |")
            continue
        floor = r.get("floor", {})
        rate = ""
        if "rows_per_s" in r:
            rate = f"{r['rows_per_s']:,}" + (f" ({floor['rows_per_s']:,})" if "rows_per_s" in floor else "")
        elif "rate_per_s" in r:
            rate = f"{r['rate_per_s']:,.0f} req/s, p99 {r['p99_ms']:.0f} ms"
        plans = ""
        if "plans" in r:
            scans = r["plans"]["seq_scans_of_contacts"]
            plans = "no seq scan" if not scans else f"{len(scans)} seq scan"
        rows.append(
            f"| {r['title']} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{floor.get('median_ms', '') if floor else ''} | {r.get('ratio', '')} | {r.get('db_ms', '')} | "
            f"{r.get('queries', '')} | {rate} | {r.get('rss_mb', '')} | {plans} |"
        )
    return "\n".join(rows)


def write_results(results: list[dict], *, size_label: str, env: Env, dataset: dict, started: float) -> Path:
    """bench/results/<date>-<size>.json; a run of some scenarios replaces theirs in the day's file."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.date.today().isoformat()
    path = RESULTS_DIR / f"{stamp}-{size_label}.json"
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    for result in results:
        result["ran_at"] = now
    if path.exists():
        earlier = json.loads(path.read_text()).get("scenarios", [])
        names = {result["name"] for result in results}
        order = [s.name for s in SCENARIOS.values()]
        kept = [result for result in earlier if result["name"] not in names]
        results = sorted([*kept, *results], key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))
    document = {
        "date": now,
        "size": size_label,
        "contacts": env.contacts,
        "commit": _git_commit(),
        "machine": machine(),
        "dataset": dataset,
        "wall_s": round(time.perf_counter() - started, 1),
        "scenarios": results,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
