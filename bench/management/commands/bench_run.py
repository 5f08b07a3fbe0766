"""python manage.py bench_run: the scenarios against the database DATABASE_URL names (a generated
bench_… data set), with bench.settings. `manage.py bench` (and `make bench`) call it; run it by hand
to repeat some scenarios on a data set that exists."""

import json
import os
import time

from django.core.management.base import BaseCommand, CommandError

from bench import harness, restore
from bench.copyload import stamp_read

FULL_SIZE = 500_000


class Command(BaseCommand):
    help = "Run the benchmark scenarios against the current database (a generated data set)."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", help="scenario names or prefixes (default: all)")
        parser.add_argument("--repeat", type=int, help="repetitions of each scenario (default: its own)")
        parser.add_argument("--warmup", type=int, help="warm-up runs of each scenario (default: its own)")
        parser.add_argument("--size-label", default="", help="names the results file (default: the contact count)")
        parser.add_argument("--generated-seconds", type=float, help="how long the data set took (reported)")
        parser.add_argument("--no-write", action="store_true", help="print the table, write no results file")
        parser.add_argument(
            "--import-rows", type=int, help="rows of the import scenario's file (default: one per contact)"
        )
        parser.add_argument("--child", help="internal: run this child task and print its JSON")
        parser.add_argument("--arguments", default="{}", help="internal: the child task's arguments (JSON)")

    def handle(self, *args, only, repeat, warmup, size_label, generated_seconds, no_write, child, arguments, **options):
        import bench.scenarios  # noqa: F401 - registers the scenarios

        if child:
            figures = harness.CHILD_TASKS[child](**json.loads(arguments))
            self.stdout.write(json.dumps(figures))
            return
        started = time.perf_counter()
        stamp = stamp_read("default")
        if not stamp or "rows" not in stamp:
            raise CommandError("This database holds no complete data set; run `manage.py bench` (or generate_data).")
        cleaned = restore.restore_pending()
        if cleaned:
            self.stdout.write(f"Removed what an interrupted run left: {cleaned}")
        scenarios = harness.selected(only)
        if not scenarios:
            raise CommandError(f"No scenario matches {only}; known: {', '.join(harness.SCENARIOS)}")
        env = harness.Env(
            contacts=stamp["contacts"],
            stamp=stamp,
            full_size=stamp["contacts"] >= FULL_SIZE,
            log=self.stdout.write,
            options={"import_rows": options["import_rows"]} if options["import_rows"] else {},
        )
        self.stdout.write(f"Running {len(scenarios)} scenarios on {stamp['contacts']:,} contacts (pid {os.getpid()})")
        results = harness.run(scenarios, env, repeat=repeat, warmup=warmup)
        self.stdout.write("")
        self.stdout.write(harness.table(results))
        for result in results:
            for note in result.get("notes", []):
                self.stdout.write(f"  {result['name']}: {note}")
            if result.get("details"):
                self.stdout.write(f"  {result['name']}: {result['details']}")
            if result.get("error"):
                self.stdout.write(self.style.ERROR(f"  {result['name']}: {result.get('traceback', result['error'])}"))
            scans = result.get("plans", {}).get("seq_scans_of_contacts")
            for scan in scans or []:
                query = scan["query"][:160]
                self.stdout.write(
                    self.style.WARNING(f"  {result['name']}: sequential scan of contacts_contact in: {query}")
                )
        if not no_write:
            dataset = {key: stamp.get(key) for key in ("contacts", "seed", "as_of", "ratios", "rows", "version")}
            # the load's own time is in the stamp; this run's, when it made the data set, is end to end
            dataset["generated_seconds"] = generated_seconds or stamp.get("seconds")
            path = harness.write_results(
                results, size_label=size_label or str(stamp["contacts"]), env=env, dataset=dataset, started=started
            )
            self.stdout.write(self.style.SUCCESS(f"Results written to {path}"))
