"""python manage.py compact_analyses [--keep-full N] [--keep-periods N] [--dry-run]

Shrinks the stored analysis runs to what the pages read of them (customers/retention.py;
docs/operations.md, "Analysis runs on disk"). Every analysis does this after its run;
the command is for changing the retention at once, or for seeing what it would do.
"""

from django.core.management.base import BaseCommand, CommandError

from customers.retention import analysis_runs_compact


class Command(BaseCommand):
    help = "Compact the stored customer analysis runs (keep the newest whole)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep-full", type=int, default=None, help="runs kept whole (ANALYSIS_KEEP_FULL_RUNS)"
        )
        parser.add_argument(
            "--keep-periods",
            type=int,
            default=None,
            help="periods kept, 0 for all (ANALYSIS_KEEP_PERIODS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count only, change nothing")

    def handle(self, *args, keep_full, keep_periods, dry_run, **options):
        for name, value in (("--keep-full", keep_full), ("--keep-periods", keep_periods)):
            if value is not None and value < 0:
                raise CommandError(f"{name} must be 0 or more, not {value}")
        outcome = analysis_runs_compact(
            keep_full=keep_full, keep_periods=keep_periods, dry_run=dry_run
        )
        self.stdout.write(("Would do: " if dry_run else "Done: ") + str(outcome))
