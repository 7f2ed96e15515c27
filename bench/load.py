"""Load benchmark: 50 simulated users against gunicorn and PostgreSQL on this machine.

Prints figures (requests per second, p50/p95/p99/max latency per request kind and
overall, errors per kind, whose CPU the run used) and PASS or FAIL against the target:
p95 of at most 300 ms over all requests, and no errors. The exit code is 0 either way,
unless --strict. It is not a test: the figures depend on the machine and what else runs.

    .venv/bin/python bench/load.py                # 50 users, 60 s, think 2-6 s
    .venv/bin/python bench/load.py --think 1 3    # half the pause: the headroom
    .venv/bin/python bench/load.py --reseed --workers 3 --threads 4
    make bench-load

BENCH_DATABASE_URL names its own database, never the app's (default
postgres://postgres@127.0.0.1:5432/benchload); BENCH_PORT or --port the port (default 8104).

What it does, in order:

1. Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/benchload) is
   created if missing (--reseed drops and recreates it), migrated, and seeded once: 10
   teams of 5 sales users, 2 managers, 60 chains (each user owns one, plus one more per
   team) with 5 stages, 35 actors from a shared catalog, 3-6 contact persons per actor
   (a few placeholders), 50 influences, the worksheet answers and a few review comments,
   and a month of the team's edits (150 contact and 48 member changes per chain);
   3,000 customers with four years of value history, analysed, 600 of them linked to
   catalog actors. Everything is written with its change history, as the app writes it,
   so the activity feed has as many rows to read as in a chain in use. A later run reuses
   the data: the edits of the earlier runs only add history (--reseed starts afresh).
2. `collectstatic`, then gunicorn as a child process on 127.0.0.1:PORT with DEBUG=0,
   HTTPS=0, ALLOWED_HOSTS=127.0.0.1 and a fixed SECRET_KEY; with config/gunicorn.conf.py
   where it exists, else with the defaults below (--workers, --threads, --worker-class
   override either).
3. The users log in through the login form (CSRF token from the form), spread over
   --ramp seconds. Logging in hashes the password on purpose slowly, and a team does not
   log in all at the same second, so the logins are timed but lie before the measured
   window and are listed apart. Then all users work for --duration seconds, in one asyncio
   process with one httpx client (cookie jar, at most 6 connections, as a browser) each.
4. gunicorn is stopped (also on errors or Ctrl-C) and the figures printed.

What a simulated user does, action after action, with a pause before each action and
before saving a form (--think, uniform between the two values):

- 30 % chain page: the full page of one of the team's chains (half the time their own),
  and the activity feed the page loads after it (htmx `load`).
- 40 % edits on the page of their own chain, as the page's htmx does them:
  - a contact person or an actor (chain link): GET the edit form with HX-Request, pause,
    POST it back with its hidden version and one changed field (notes); the response
    sends `chain-changed`, so the page's six regions that listen for it (summary,
    review, diagram, white spots, influence list, actor questions) and the activity feed
    re-fetch themselves at once, as htmx does, concurrently;
  - a worksheet answer (autosave POST); it sends `answers-changed`, which reloads the
    summary.
  Every user edits only their own chain, so no edit meets a version conflict; a conflict
  or a form error in a response counts as an error.
- 20 % customer list: the full list with a value-type filter, a page or a search, or
  the htmx request of the filter form for the table alone.
- 10 % chain list.

The mix is one of actions, not of requests: an edit sets off nine requests, so about half
of all requests are region reloads. Static files are not requested: a browser keeps them
(whitenoise serves them with far-future cache headers).

The pause, 2-6 s by default (4 s on average), is a person's pace who reads what a click
brought and then clicks again, and who takes as long to change a note in a form; real
users pause longer, while typing a note alone takes more. Halved (--think 1 3) it shows
the headroom. At 0.5-1.5 s every user clicks about once a second all minute long, 140
requests a second in all, more than the two cores serve (see the figures).

Figures on the 2-core machine (AMD EPYC, KVM) with the project's gunicorn config (5
processes of 2 threads), after `--reseed`, 60 s each; the "before" runs are the code
before the load work (commit 9665f38) with this same benchmark and data:

    think      requests/s  p50 ms     p95 ms       p99 ms        errors  gunicorn CPU/request
    2-6 s      33 (33)     41 (61)    110 (221)    181 (352)     0 (0)   16 ms (23 ms)
    1-3 s      67 (59)     50 (158)   174 (687)    297 (1041)    0 (0)   14 ms (24 ms)
    0.5-1.5 s  87 (64)     288 (624)  879 (1761)   1242 (2228)   0 (0)   17 ms (25 ms)

The "before" figures are in parentheses. 2-6 s and 1-3 s PASS; 0.5-1.5 s FAILs, with
the server saturated (gunicorn alone used 1.4 of the 2 cores).

gunicorn settings compared at 1-3 s (p95 of all requests; measured one step before the
final code): 5 processes x 2 threads (the project's config) 304 ms; 8 x 1 thread 386 ms;
3 x 4 threads 467 ms; 2 x 4 threads 606 ms; 5 sync workers 714 ms. Processes beat
threads on 2 cores (one GIL each); sync workers serve the seven requests one edit sets
off one after another.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/benchload"
PASSWORD = "load-bench-2026"
SEED_MARK = "Load team 01"  # the first team: its presence means the data is there
TARGET_P95_MS = 300.0
# Seconds a simulated user pauses before each action and before saving a form (uniform).
THINK = (2.0, 6.0)

TEAMS = 10
USERS_PER_TEAM = 5
EXTRA_CHAINS_PER_TEAM = 1  # 10 x (5 + 1) = 60 chains
ACTORS_PER_CHAIN = 35
CATALOG_ACTORS = 600
CUSTOMERS = 3000

# Without a config/gunicorn.conf.py: see the docstring of `server_command`.
DEFAULT_WORKERS = 5
DEFAULT_THREADS = 2

# The regions of the chain page that listen for `chain-changed` (templates/chain/detail.html).
CHANGED_REGIONS = [
    "summary",
    "review",
    "diagram",
    "white-spots",
    "influence-list",
    "actor-questions",
]
KINDS = [
    "chain page",
    "activity feed",
    "edit form",
    "edit save",
    "region reload",
    "answer save",
    "customer list",
    "chain list",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=TEAMS * USERS_PER_TEAM)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=THINK,
        metavar=("MIN", "MAX"),
        help="pause before each action, seconds (uniform)",
    )
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to spread the logins")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8104")))
    parser.add_argument("--workers", type=int, help="gunicorn workers")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the users' choices")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless PASS")
    args = parser.parse_args()
    if args.users > TEAMS * USERS_PER_TEAM:
        parser.error(f"at most {TEAMS * USERS_PER_TEAM} users are seeded")
    return args


# Environment and database -----------------------------------------------------------------


def server_env(database_url: str) -> dict[str, str]:
    """Production-like settings for the server (and for seeding with the same settings)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "bench-load-secret-key-not-for-production-0123456789abcdef",
        # The log level stays as in production (INFO: a line per request, to the log file).
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
    }


def database_ensure(database_url: str, *, reseed: bool) -> None:
    """Create the benchmark database if it is missing; drop it first with --reseed."""
    import psycopg
    from psycopg import sql

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if reseed:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *command, "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )


def django_setup(env: dict[str, str]) -> None:
    for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "HTTPS", "SECRET_KEY"):
        os.environ[key] = env[key]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    # Django's logging config reaches this process too: no line per request of the client.
    logging.getLogger("httpx").setLevel(logging.WARNING)


# Seeding ----------------------------------------------------------------------------------

KIND_NAMES = [
    "Raw material supplier", "Manufacturer", "Wholesale", "Craftsman", "End customer",
    "Service partner", "Planner",
]  # fmt: skip
FACTOR_NAMES = [
    "Availability", "Quality", "Price", "Technical advice", "Logistics", "Certificates",
    "Training", "Range", "Brand", "Warranty",
]  # fmt: skip
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Eva",
    "Felix",
    "Greta",
    "Hans",
    "Ida",
    "Jonas",
    "Karin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
]
LAST = [
    "Weber",
    "Maier",
    "Huber",
    "Schmid",
    "Wagner",
    "Becker",
    "Koch",
    "Richter",
    "Wolf",
    "Neumann",
    "Braun",
    "Krüger",
]
ROLES = [
    "Purchasing", "Managing director", "Product manager", "Site manager", "Planner",
    "Quality", "Sales", "Technical director", "Procurement lead", "Workshop head",
]  # fmt: skip


def seed() -> None:
    """The benchmark's data (see the module docstring), written with its change history."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from chain import services
    from chain.models import Team

    rng = random.Random(2026)
    with transaction.atomic():
        catalog, factors = _seed_catalog(rng)
        # One hash for all: hashing 52 passwords one by one would take half a minute.
        password = make_password(PASSWORD)
        sales, manager_role = Group.objects.get(name="sales"), Group.objects.get(name="manager")
        managers = []
        for i in range(1, 3):
            manager = User.objects.create(username=f"loadmanager{i}", password=password)
            manager.groups.add(manager_role)
            managers.append(manager)
        for t in range(1, TEAMS + 1):
            team = Team.objects.create(name=f"Load team {t:02d}")
            users = []
            for u in range(1, USERS_PER_TEAM + 1):
                user = User.objects.create(
                    username=f"load{(t - 1) * USERS_PER_TEAM + u:02d}",
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    password=password,
                )
                user.groups.add(sales)
                team.members.add(user)
                users.append(user)
            for c, owner in enumerate(users + users[:EXTRA_CHAINS_PER_TEAM]):
                chain = services.chain_create(
                    team=team,
                    owner=owner,
                    scope_name=f"Product {t:02d}-{c + 1} for {rng.choice(KIND_NAMES).lower()}s",
                    coach_whom="The ten largest craftsmen of the region",
                )
                services.stage_add(chain=chain, name="Planner")
                _seed_chain(chain, rng, catalog, factors, users, managers)
    _seed_customers(catalog, rng)
    # Planner statistics, as a database in use has them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _seed_catalog(rng: random.Random) -> tuple[list, list]:
    from simple_history.utils import bulk_create_with_history

    from chain.models import Actor, ActorKind, SuccessFactor

    kinds = [ActorKind.objects.get_or_create(name=n)[0] for n in KIND_NAMES]
    factors = [SuccessFactor.objects.get_or_create(name=n)[0] for n in FACTOR_NAMES]
    Actor.objects.get_or_create(
        name="Load Kleber GmbH", defaults={"kind": kinds[1], "is_own_company": True}
    )
    actors = [
        Actor(
            name=f"Load actor {i:04d}",
            kind=kinds[i % len(kinds)],
            size=rng.choice(["", *Actor.Size.values]),
            position=rng.choice(["", *Actor.Position.values]),
            count=rng.choice([1, 1, 1, 3, 12, 250]),
        )
        for i in range(CATALOG_ACTORS)
    ]
    return bulk_create_with_history(actors, Actor, default_date=_days_ago(60)), factors


def _days_ago(days: float):
    from django.utils import timezone

    return timezone.now() - timezone.timedelta(days=days)


def _seed_chain(chain, rng: random.Random, catalog, factors, users, managers) -> None:
    """35 members with contacts, influences, answers and comments, and a month of edits."""
    from simple_history.utils import bulk_create_with_history as bulk

    from chain.models import (
        ACTOR_QUESTIONS,
        CHAIN_QUESTIONS,
        ChainLink,
        Contact,
        Influence,
        ReviewComment,
        WorksheetAnswer,
    )

    since = _days_ago(30)
    stages = list(chain.stages.all())
    per_stage: dict[int, int] = defaultdict(lambda: 1)  # the own company sits at 0
    links = []
    for i, actor in enumerate(rng.sample(catalog, ACTORS_PER_CHAIN)):
        stage = stages[i % len(stages)]
        characterised = rng.random() < 0.7
        links.append(
            ChainLink(
                chain=chain,
                actor=actor,
                stage=stage,
                position=per_stage[stage.pk],
                importance=rng.randint(1, 5) if characterised or rng.random() < 0.5 else None,
                relationship=rng.choice(ChainLink.Relationship.values) if characterised else "",
                problems_needs="Short delivery times, reliable advice on site."
                if characterised
                else "",
            )
        )
        per_stage[stage.pk] += 1
    links = bulk(links, ChainLink, default_date=since)
    through = ChainLink.success_factors.through
    through.objects.bulk_create(
        through(chainlink_id=link.pk, successfactor_id=f.pk)
        for link in links
        if link.relationship
        for f in rng.sample(factors, 2)
    )
    contacts = []
    for link in links:
        for _ in range(rng.randint(3, 6)):
            placeholder = rng.random() < 0.1
            level = rng.choice(["none", "indirect"] if placeholder else Contact.Level.values)
            contacts.append(
                Contact(
                    link=link,
                    name="" if placeholder else f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    role=rng.choice(ROLES),
                    email="" if placeholder else "person@example.com",
                    level=level,
                    owner=rng.choice(users),
                )
            )
    contacts = bulk(contacts, Contact, default_date=since)
    pairs: set[tuple] = set()
    while len(pairs) < 50:
        pairs.add(tuple(rng.sample(links, 2)))
    influences = [
        Influence(
            chain=chain,
            source=a,
            target=b,
            description="Decides what the other buys",
            strength=rng.randint(1, 3),
        )
        for a, b in pairs
    ]
    bulk(influences, Influence, default_date=since)
    answers = [
        WorksheetAnswer(chain=chain, question=q, text=f"What the team found out about {q}.")
        for q in CHAIN_QUESTIONS
    ]
    answers += [
        WorksheetAnswer(chain=chain, link=link, question=q, text="Known by name, met twice.")
        for link in links[:10]
        for q in ACTOR_QUESTIONS
    ]
    bulk(answers, WorksheetAnswer, default_date=since)
    for i in range(3):
        ReviewComment.objects.create(
            chain=chain,
            author=managers[i % len(managers)],
            link=links[i] if i else None,
            text="Please check the contacts of this actor.",
            resolved_at=since if i == 2 else None,
        )
    _seed_edits(rng, contacts, links, users)


def _seed_edits(rng: random.Random, contacts, links, users) -> None:
    """A month of the team's edits: notes of contacts and members changed now and then,
    so that the activity feed reads as many history rows as a chain in use has."""
    from chain.models import ChainLink, Contact

    for day in range(29, 0, -5):
        for model, rows, n in ((Contact, contacts, 25), (ChainLink, links, 8)):
            edited = rng.sample(rows, n)
            for row in edited:
                row.notes = f"Talked on day {30 - day}: next visit planned."
                row.version += 1
                row._history_user = rng.choice(users)
                row._history_date = _days_ago(day - rng.random())
            model.history.bulk_history_create(edited, update=True)
    Contact.objects.bulk_update(contacts, ["notes", "version"])
    ChainLink.objects.bulk_update(links, ["notes", "version"])


def _seed_customers(catalog, rng: random.Random) -> None:
    """Customers with value histories, analysed once; a fifth linked to catalog actors."""
    import pandas as pd

    from customers.models import Customer
    from customers.services import analysis_run_create, value_records_load
    from customers.synthetic import generate

    as_of = pd.Timestamp("2026-01-01")
    history, _types, _future = generate(CUSTOMERS, seed=2026, as_of=as_of, months=48)
    ids = history["customer_id"].astype(str)
    numbers = {old: f"L-{10001 + i}" for i, old in enumerate(sorted(ids.unique()))}
    history = history.assign(customer_id=ids.map(numbers))
    names = {
        n: f"{rng.choice(LAST)} {rng.choice(['GmbH', 'KG', 'AG', 'e.K.'])} {n}"
        for n in numbers.values()
    }
    history = history.assign(customer_name=history["customer_id"].map(names))
    value_records_load(history=history)
    linked = sorted(numbers.values())[: CUSTOMERS // 5]
    for i in range(0, len(linked), 5):
        Customer.objects.filter(number__in=linked[i : i + 5]).update(
            actor=catalog[(i // 5) % len(catalog)]
        )
    analysis_run_create(as_of=as_of)


# The users' plan ----------------------------------------------------------------------------


@dataclass
class Person:
    username: str
    own_chain: int
    team_chains: list[int]
    links: list[int]
    contacts: list[int]


def people(n: int) -> list[Person]:
    """The first n sales users, each with the chain they own and its parts."""
    from chain.models import Chain, ChainLink, Contact

    result = []
    for i in range(1, n + 1):
        username = f"load{i:02d}"
        own = Chain.objects.filter(owner__username=username).order_by("pk").first()
        team_chains = list(Chain.objects.filter(team=own.team_id).values_list("pk", flat=True))
        links = ChainLink.objects.filter(chain=own, actor__is_own_company=False)
        contacts = Contact.objects.filter(link__chain=own)
        result.append(
            Person(
                username=username,
                own_chain=own.pk,
                team_chains=team_chains,
                links=list(links.values_list("pk", flat=True)),
                contacts=list(contacts.values_list("pk", flat=True)),
            )
        )
    return result


# The server ---------------------------------------------------------------------------------


def server_command(args: argparse.Namespace) -> list[str]:
    """gunicorn with the project's config where there is one; the options override it.

    Without a config: 5 processes of 2 threads (gthread), as config/gunicorn.conf.py has
    it on 2 cores, and the best of the choices measured here (see the module docstring):
    fewer processes with more threads wait for each other's GIL, sync workers serve the
    seven requests one edit sets off one at a time per process.
    """
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    config = ROOT / "config" / "gunicorn.conf.py"
    if config.exists():
        command += ["--config", str(config)]
    else:
        command += [
            "--workers", str(DEFAULT_WORKERS),
            "--worker-class", "gthread",
            "--threads", str(DEFAULT_THREADS),
        ]  # fmt: skip
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.worker_class:
        command += ["--worker-class", args.worker_class]
    if args.threads:
        command += ["--threads", str(args.threads)]
    # The address is the benchmark's own, whatever the config says.
    return [*command, "--bind", f"127.0.0.1:{args.port}"]


def server_start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """gunicorn in a session of its own: stopping it stops its workers. Its output (one log
    line per request, as in production) goes to `log`, not to this terminal."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def server_wait(base: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"gunicorn exited with code {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/accounts/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within a minute")


def server_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# CPU accounting: whose CPU the run used (the machine may be busy with other work too) --------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the fields after the command name


def server_cpu(pid: int) -> float:
    """CPU seconds of gunicorn: the master with its ended workers, and the live workers."""
    fields = _stat(pid)
    total = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(int(entry.name))
            except (OSError, ValueError):
                continue
            if int(child[1]) == pid:
                total += int(child[11]) + int(child[12])
    return total / TICK


def database_cpu(name: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the database `name`, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
            if title.startswith("postgres: ") and f" {name} " in title:
                fields = _stat(int(entry.name))
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            continue
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


@dataclass
class CpuUse:
    server: float
    client: float
    database: dict[int, float]
    busy: float
    total: float

    @classmethod
    def now(cls, server_pid: int, database: str) -> CpuUse:
        busy, total = machine_cpu()
        return cls(server_cpu(server_pid), time.process_time(), database_cpu(database), busy, total)

    def __sub__(self, other: CpuUse) -> CpuUse:
        # Backends that ended in between are missing: the figure is a lower bound.
        database = {pid: t - other.database.get(pid, 0.0) for pid, t in self.database.items()}
        return CpuUse(
            self.server - other.server,
            self.client - other.client,
            database,
            self.busy - other.busy,
            self.total - other.total,
        )


# The simulated users ------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The values a browser would submit for the first form of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._selected:
                self.values.append((self._select, value))
                self._selected = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._selected:
                self.values.append((self._select, self._first_option or ""))
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the one newline right after <textarea>.
            self.values.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


@dataclass
class Sample:
    kind: str
    ms: float
    error: str = ""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    logins: list[Sample] = field(default_factory=list)
    # Requests that start in this (monotonic) time span are counted.
    window: tuple[float, float] | None = None
    elapsed: float = 0.0
    cpu: CpuUse | None = None


class SimulatedUser:
    def __init__(self, person: Person, base: str, rec: Recorder, rng: random.Random, args):
        self.person, self.rec, self.rng, self.args = person, rec, rng, args
        self.client = httpx.AsyncClient(
            base_url=base,
            timeout=60,
            # A browser opens at most six connections to one host. Idle connections are
            # dropped before gunicorn's keep-alive (2 s) would close them under a request.
            limits=httpx.Limits(
                max_connections=6, max_keepalive_connections=6, keepalive_expiry=1.0
            ),
        )
        self.edits = 0
        self.end = 0.0

    async def request(
        self, kind: str, method: str, url: str, *, check: str = "", **kw
    ) -> httpx.Response | None:
        """One timed request; recorded only inside the measured window."""
        start, started = time.perf_counter(), time.monotonic()
        error = ""
        response = None
        try:
            response = await self.client.request(method, url, **kw)
            if response.status_code >= 400:
                error = f"HTTP {response.status_code}"
            elif check:
                error = check_response(check, response)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        sample = Sample(kind, (time.perf_counter() - start) * 1000, error)
        if kind == "login":
            self.rec.logins.append(sample)
        elif self.rec.window and self.rec.window[0] <= started < self.rec.window[1]:
            self.rec.samples.append(sample)
        return None if error else response

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(*self.args.think))

    async def login(self) -> None:
        form = await self.request("login", "GET", "/accounts/login/")
        token = CSRF_INPUT.search(form.text).group(1) if form else ""
        data = {
            "username": self.person.username,
            "password": PASSWORD,
            "next": "/chains/",
            "csrfmiddlewaretoken": token,
        }
        await self.request("login", "POST", "/accounts/login/", data=data, check="redirect")

    def post_headers(self) -> dict[str, str]:
        # The page puts the CSRF token into every htmx request (hx-headers on <body>).
        return {**HTMX, "X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    # The actions -----------------------------------------------------------------------------

    async def chain_page(self) -> None:
        p = self.person
        pk = p.own_chain if self.rng.random() < 0.5 else self.rng.choice(p.team_chains)
        if await self.request("chain page", "GET", f"/chains/{pk}/", check="page"):
            await self.request(
                "activity feed",
                "GET",
                f"/chains/{pk}/activity/",
                headers={**HTMX, "HX-Target": "activity"},
            )

    async def edit(self) -> None:
        choice = self.rng.random()
        if choice < 0.3:
            await self.answer()
            return
        p = self.person
        if choice < 0.65:
            url = f"/chains/contacts/{self.rng.choice(p.contacts)}/edit/"
        else:
            url = f"/chains/links/{self.rng.choice(p.links)}/edit/"
        form = await self.request("edit form", "GET", url, headers=HTMX, check="form")
        if form is None:
            return
        reader = FormReader()
        reader.feed(form.text)
        self.edits += 1
        note = f"Call on {self.edits}: {p.username} asked about the next order."
        data = [(k, note if k == "notes" else v) for k, v in reader.values]
        await self.think()  # the person types
        if time.monotonic() >= self.end:
            return  # past the window: the save would not be counted
        # A list of pairs: the checked success factors repeat their name.
        saved = await self.request(
            "edit save",
            "POST",
            url,
            content=urlencode(data),
            headers={**self.post_headers(), "Content-Type": "application/x-www-form-urlencoded"},
            check="changed",
        )
        if saved is not None:
            await self.reload_regions(p.own_chain)

    async def answer(self) -> None:
        p = self.person
        self.edits += 1
        data = {"question": "coach", "text": f"The largest craftsmen, revision {self.edits}."}
        url = f"/chains/{p.own_chain}/answers/save/"
        saved = await self.request(
            "answer save", "POST", url, data=data, headers=self.post_headers()
        )
        if saved is not None:
            # `answers-changed`: the summary reloads.
            await self.request(
                "region reload",
                "GET",
                f"/chains/{p.own_chain}/",
                headers={**HTMX, "HX-Target": "summary"},
            )

    async def reload_regions(self, pk: int) -> None:
        """What htmx does on `chain-changed`: every listening region GETs itself, at once."""
        calls = [
            self.request(
                "region reload",
                "GET",
                f"/chains/{pk}/",
                params={"color": "importance", "only": ""} if region == "diagram" else None,
                headers={**HTMX, "HX-Target": region},
            )
            for region in CHANGED_REGIONS
        ]
        calls.append(
            self.request(
                "activity feed",
                "GET",
                f"/chains/{pk}/activity/",
                headers={**HTMX, "HX-Target": "activity"},
            )
        )
        await asyncio.gather(*calls)

    async def customer_list(self) -> None:
        rng = self.rng
        params: dict[str, str] = {}
        pick = rng.random()
        if pick < 0.3:
            params["type"] = rng.choice(["steady", "cyclic", "bell", "growth", "shrinking", "burr"])
        elif pick < 0.6:
            params["page"] = str(rng.randint(2, 20))
        elif pick < 0.8:
            params["q"] = rng.choice(LAST)
        if rng.random() < 0.3:
            params["sort"] = rng.choice(["future", "growth", "name"])
        # Half of them come from the filter form: htmx asks for the table alone.
        headers = {**HTMX, "HX-Target": "customer-table"} if rng.random() < 0.5 else {}
        await self.request("customer list", "GET", "/customers/", params=params, headers=headers)

    async def chain_list(self) -> None:
        await self.request("chain list", "GET", "/chains/", check="page")

    async def run(self, start: asyncio.Event, end: float) -> None:
        actions = [
            (0.30, self.chain_page),
            (0.40, self.edit),
            (0.20, self.customer_list),
            (0.10, self.chain_list),
        ]
        weights = [w for w, _ in actions]
        self.end = end
        await start.wait()
        while True:
            await self.think()
            if time.monotonic() >= end:
                break
            action = self.rng.choices(actions, weights)[0][1]
            await action()
        await self.client.aclose()


def check_response(check: str, response: httpx.Response) -> str:
    """Beyond the status: is the response what the browser expects?"""
    if check == "redirect":
        return "" if response.status_code == 302 else "login refused"
    if check == "page":
        return "" if response.status_code == 200 and "<html" in response.text else "no page"
    if check == "form":
        return "" if 'name="version"' in response.text else "no form"
    if check == "changed":
        text = response.text
        if 'class="conflict"' in text:
            return "edit conflict"
        if "has-error" in text or 'class="errors"' in text:
            return "form error"
        if "chain-changed" not in response.headers.get("HX-Trigger", ""):
            return "not saved"
    return ""


async def run_load(
    people_: list[Person], base: str, args, server_pid: int, database: str
) -> Recorder:
    rec = Recorder()
    start = asyncio.Event()
    master = random.Random(args.seed)
    users = [SimulatedUser(p, base, rec, random.Random(master.random()), args) for p in people_]

    async def login(i: int, user: SimulatedUser) -> None:
        await asyncio.sleep(args.ramp * i / len(users))
        await user.login()

    await asyncio.gather(*(login(i, u) for i, u in enumerate(users)))
    began, cpu = time.monotonic(), CpuUse.now(server_pid, database)
    end = began + args.duration
    rec.window = (began, end)
    start.set()
    await asyncio.gather(*(u.run(start, end) for u in users))
    rec.cpu = CpuUse.now(server_pid, database) - cpu
    rec.elapsed = time.monotonic() - began  # the last requests end after `end`
    return rec


# The report ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]


def row(label: str, samples: list[Sample], seconds: float) -> str:
    ms = sorted(s.ms for s in samples)
    errors = sum(1 for s in samples if s.error)
    return (
        f"{label:<16}{len(ms):>9}{len(ms) / seconds:>9.1f}"
        f"{percentile(ms, 50):>9.0f}{percentile(ms, 95):>9.0f}{percentile(ms, 99):>9.0f}"
        f"{(ms[-1] if ms else float('nan')):>9.0f}{errors:>9}"
    )


def report(rec: Recorder, args, command: list[str]) -> bool:
    seconds = args.duration
    print()
    print(f"server: {' '.join(command[2:])}")
    print(
        f"users: {args.users}, measured: {args.duration:.0f} s (last request ended after "
        f"{rec.elapsed:.1f} s), think: {args.think[0]}-{args.think[1]} s"
    )
    heads = ["requests", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"]
    print(f"{'kind':<16}" + "".join(f"{h:>9}" for h in heads))
    by_kind = defaultdict(list)
    for s in rec.samples:
        by_kind[s.kind].append(s)
    for kind in KINDS:
        if by_kind[kind]:
            print(row(kind, by_kind[kind], seconds))
    print(row("all", rec.samples, seconds))
    print(row("(login, before)", rec.logins, args.ramp or 1))
    errors = defaultdict(lambda: defaultdict(int))
    for s in rec.samples + rec.logins:
        if s.error:
            errors[s.kind][s.error] += 1
    for kind, counts in errors.items():
        print(f"errors, {kind}: " + ", ".join(f"{e} x{n}" for e, n in counts.items()))
    if rec.cpu:
        c, cores = rec.cpu, rec.cpu.total / rec.elapsed
        db = sum(c.database.values())
        print(
            f"CPU in the window, {cores:.0f} cores x {rec.elapsed:.0f} s = {c.total:.0f} s: "
            f"gunicorn {c.server:.1f} s ({1000 * c.server / max(1, len(rec.samples)):.1f} ms "
            f"per request), PostgreSQL >= {db:.1f} s, this client {c.client:.1f} s, "
            f"other processes {c.busy - c.server - c.client - db:.1f} s, "
            f"idle {c.total - c.busy:.1f} s"
        )
    ms = sorted(s.ms for s in rec.samples)
    p95 = percentile(ms, 95)
    n_errors = sum(1 for s in rec.samples + rec.logins if s.error)
    passed = p95 <= TARGET_P95_MS and n_errors == 0 and bool(ms)
    verdict = "PASS" if passed else "FAIL"
    target = f"target <= {TARGET_P95_MS:.0f} ms"
    print(f"{verdict}: p95 {p95:.0f} ms ({target}), {n_errors} errors (target 0)")
    return passed


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    env = server_env(database_url)
    t = time.perf_counter()
    database_ensure(database_url, reseed=args.reseed)
    manage(env, "migrate", "--noinput")
    django_setup(env)
    from django.db import connections

    from chain.models import Team

    if not Team.objects.filter(name=SEED_MARK).exists():
        print("seeding ...", flush=True)
        seed()
    plan = people(args.users)
    connections.close_all()  # the client holds no database connection during the run
    manage(env, "collectstatic", "--noinput")
    print(f"database ready, static files collected: {time.perf_counter() - t:.0f} s", flush=True)

    command = server_command(args)
    base = f"http://127.0.0.1:{args.port}"
    log = Path(tempfile.gettempdir()) / f"bench-load-gunicorn-{args.port}.log"
    proc = server_start(command, env, log)
    try:
        server_wait(base, proc, log)
        print(
            f"gunicorn up; {args.users} users log in over {args.ramp:.0f} s, then work "
            f"for {args.duration:.0f} s ...",
            flush=True,
        )
        database = urlparse(database_url).path.lstrip("/")
        rec = asyncio.run(run_load(plan, base, args, proc.pid, database))
    finally:
        server_stop(proc)
    passed = report(rec, args, command)
    print(f"server log: {log}")
    if args.strict and not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
