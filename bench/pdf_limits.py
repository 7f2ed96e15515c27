"""Benchmark: a chain's exports (PDF, PNG, XLSX) when every text field is at its maximum.

Builds, in a throwaway test database, one chain with N actors (default 60) whose texts
all have their maximum length (tests/full_chain.py: notes 5,000 characters, answers
20,000, descriptions 2,000, names 160, ...), two contacts each, an influence between
neighbours, every worksheet question answered and 20 review comments. Then builds each
export through the same functions as the download views (with their time limit) and
prints the seconds (and the CPU seconds of the child process that draws the PDF and the
PNG, steadier on a busy machine), the size and, for the PDF, the pages.

`--style words` fills the texts with prose; `--style token` with one unbroken word per
field, the input that made the report take minutes before long words could break.
Prints figures; it is not a pass/fail test.

    .venv/bin/python bench/pdf_limits.py [--actors 60] [--style words|token] [--save DIR]

Uses DATABASE_URL like the app (SQLite by default; its test database lives in memory).
"""

import argparse
import io
import logging
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)

from django.db import connection  # noqa: E402


def seed(actors: int, style: str):
    from chain.models import Chain
    from tests.factories import make_chain, make_team, make_user
    from tests.full_chain import fill_chain

    team = make_team("Bench exports")
    user = make_user("bench-exports", team)
    chain = make_chain(team, user, scope_name="Bench " + "Z" * 150)
    start = time.perf_counter()
    fill_chain(chain, actors=actors, style=style, user=user)
    print(f"seeded a chain of {actors} actors ({style}) in {time.perf_counter() - start:.1f} s")
    return Chain.objects.get(pk=chain.pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=60)
    parser.add_argument("--style", choices=("words", "token"), default="words")
    parser.add_argument("--save", type=Path, help="write the files into this folder")
    args = parser.parse_args()

    from pypdf import PdfReader

    from chain import exports
    from chain.selectors import chain_board

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        chain = seed(args.actors, args.style)
        texts = exports._report_texts(exports.chain_export_data(chain))
        print(
            f"database: {connection.vendor}; time limit: {exports.export_time_limit()} s; "
            f"report text cap: {exports.text_cap([len(t) for t in texts]):,} characters"
        )
        builds = {
            "PDF": lambda: exports.report_pdf(exports.chain_export_data(chain)),
            "PNG": lambda: exports.diagram_png(chain_board(chain)),
            "XLSX": lambda: exports.workbook_xlsx(exports.chain_export_data(chain)),
        }
        for label, build in builds.items():
            start = time.perf_counter()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            try:
                content = build()
            except exports.ExportFailed as error:
                print(f"{label:5} stopped after {time.perf_counter() - start:6.1f} s: {error}")
                continue
            seconds = time.perf_counter() - start
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime
            extra = f" (child process CPU {cpu:.1f} s)" if cpu > 0.05 else ""
            if label == "PDF":
                extra += f", {len(PdfReader(io.BytesIO(content)).pages)} pages"
            print(f"{label:5} {seconds:6.1f} s, {len(content) / 2**20:6.2f} MiB{extra}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"chain-{args.style}.{label.lower()}").write_bytes(content)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
