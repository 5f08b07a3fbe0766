"""python manage.py generate_data --contacts N --seed S: a realistic client database, loaded with COPY."""

import datetime
import os

from django.core.management.base import BaseCommand, CommandError

from bench import dataset, generator


def ratio_argument(text: str) -> tuple[str, float]:
    name, _sep, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise CommandError(f"--ratio takes name=number, not {text!r}") from None


class Command(BaseCommand):
    # Loading data needs no URL configuration: a page another app is still writing must not stop it.
    requires_system_checks = []
    help = (
        "Fill the database with a generated client database of N contacts (deterministic for a seed). "
        "The generated tables must be empty, or --replace empties them."
    )

    def add_arguments(self, parser):
        import bench.datasets  # noqa: F401 - registers the generators and their ratios

        parser.add_argument("--contacts", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--ratio",
            type=ratio_argument,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="; ".join(f"{r.name} (default {r.default:g}): {r.help}" for r in generator.RATIOS.values()),
        )
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="the data's today (default: today)")
        parser.add_argument("--database", help="generate into this bench_… database (created and migrated if missing)")
        parser.add_argument("--replace", action="store_true", help="empty the generated tables first")
        parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes making rows")
        parser.add_argument("--keep-indexes", action="store_true", help="load with the indexes in place (slower)")

    def handle(self, *args, contacts, seed, ratio, as_of, database, replace, workers, keep_indexes, **options):
        if contacts < 1:
            raise CommandError("--contacts must be at least 1")
        ratios = dict(ratio)
        try:
            plan = generator.Plan.make(contacts=contacts, seed=seed, as_of=as_of, ratios=ratios)
        except ValueError as error:
            raise CommandError(str(error)) from None
        using = "default"
        if database:
            if not database.startswith("bench_"):
                raise CommandError(
                    "--database takes a name starting with bench_ (the default database needs no option)"
                )
            if not dataset.database_exists(database):
                dataset.create_database(database)
            dataset.migrate(database)
            using = dataset.use_database(database)
        if not replace:
            filled = generator.filled_tables(using)
            if filled:
                raise CommandError(
                    f"{', '.join(filled[:5])} already hold rows; --replace empties every generated table first."
                )
        self.stdout.write(f"Generating {contacts:,} contacts, seed {seed}, as of {plan.as_of}")
        result = generator.generate(
            plan=plan, using=using, workers=workers, log=self.stdout.write, drop_indexes=not keep_indexes
        )
        total = sum(result.rows.values())
        for table, rows in sorted(result.rows.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {table:32} {rows:>12,} rows  COPY {result.timings.get(table, 0):6.1f} s")
        timings = ", ".join(
            f"{name} {seconds:.1f} s"
            for name, seconds in result.timings.items()
            if name in {"load", "indexes", "analyze"}
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{total:,} rows in {result.seconds:.1f} s ({total / result.seconds:,.0f} rows/s; {timings})"
            )
        )
