"""python manage.py bench --size small: make (or reuse) the data set bench_<contacts>_<seed>, then run
the benchmark scenarios against it in a process whose database it is (`bench_run`)."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench import dataset


class Command(BaseCommand):
    # Loading data needs no URL configuration: a page another app is still writing must not stop it.
    requires_system_checks = []
    help = "Benchmark the CRM on a generated data set: small (10,000 contacts), medium, full (1,000,000) or N."

    def add_arguments(self, parser):
        parser.add_argument("--size", default="full", help="tiny, small, medium, full or a number of contacts")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--only", nargs="*", help="scenario names or prefixes (default: all)")
        parser.add_argument("--repeat", type=int)
        parser.add_argument("--warmup", type=int)
        parser.add_argument("--regenerate", action="store_true", help="make the data set again even if complete")
        parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
        parser.add_argument("--no-write", action="store_true")
        parser.add_argument(
            "--import-rows", type=int, help="rows of the import scenario's file (default: one per contact)"
        )

    def handle(self, *args, size, seed, only, repeat, warmup, regenerate, workers, no_write, import_rows, **options):
        try:
            contacts = dataset.size_contacts(size)
        except ValueError:
            raise CommandError(f"--size takes {', '.join(dataset.SIZES)} or a number, not {size!r}") from None
        data = dataset.ensure(
            contacts=contacts, seed=seed, workers=workers, regenerate=regenerate, log=self.stdout.write
        )
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "bench_run", "--size-label", size]
        if only:
            command += ["--only", *only]
        if repeat is not None:
            command += ["--repeat", str(repeat)]
        if warmup is not None:
            command += ["--warmup", str(warmup)]
        if data.generated_seconds is not None:
            command += ["--generated-seconds", f"{data.generated_seconds:.1f}"]
        if no_write:
            command.append("--no-write")
        if import_rows:
            command += ["--import-rows", str(import_rows)]
        env = {
            **os.environ,
            "DATABASE_URL": dataset.database_url(data.name),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
        }
        done = subprocess.run(command, env=env, check=False)  # noqa: S603 - our own manage.py
        if done.returncode:
            raise CommandError(f"the scenarios stopped (exit status {done.returncode})")
