"""Import of actors and contacts into one chain from a CSV or XLSX file (a CRM export).

Four steps, each a function here; the views only store the file and the mapping:

1. ``read_sheet``: the file as a table of text cells, read by ``lib.tables`` as the
   customer import reads its files (encoding and delimiter detection, Excel row numbers,
   file errors, bounds on rows, columns and cells), control characters removed. It runs
   once, at the upload; the later steps read the sheet kept as JSON (``sheet_to_json``).
2. ``guess_mapping``: which file column holds which target field, guessed from the
   headings (German and English); the user corrects it in a form.
3. ``catalog_load`` then ``plan_import``: every row checked against the actor catalog,
   the actor kinds and the chain, with a fixed number of queries however long the file
   (``plan_import`` itself runs none). The plan says per row what will happen and lists
   the errors as ``RowError`` (row as Excel shows it, column as written in the file).
4. ``import_apply``: the plan written in one transaction through the bulk services
   (``services.actors_create_bulk``, ``links_add_bulk``, ``contacts_add_bulk``), which
   record every new row in the history as a save would, with a fixed number of queries.

The duplicate rule for actors (``actor_key``): two names mean the same organisation when
they agree after ignoring case, accents and umlaut spellings ("Müller" = "Mueller"),
punctuation, extra spaces and legal forms at the end (GmbH, AG, KG, GmbH & Co. KG, SE,
Ltd, Inc, LLC, e.K., ...). So "Müller GmbH", "müller  gmbh" and "Müller" are one actor;
"Müller Bau" is another. Contacts at one actor are duplicates when they share the email
address, or the name (case and spaces ignored), or, for a placeholder without a name,
the role.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from lib.numbers import number
from lib.tables import (
    ErrorLog,
    Limits,
    RowError,
    Table,
    column_letter,
    normalise,
    read_table,
)
from lib.text import strip_control

from . import services
from .models import Actor, ActorKind, Chain, ChainLink, Contact, Stage

MAX_ERRORS = 50
# Rows shown in the preview table; the counts and the errors always cover the whole file.
PREVIEW_ROWS = 300
SAMPLES = 3
# The confirmation writes in bulk: a few dozen queries however long the file. What grows
# with the rows is building the rows and their history rows in Python, about two seconds
# for 5,000 rows. That is more actors and contacts than one chain holds; larger exports
# are to be filtered first.
MAX_ROWS = 5000
# Read at the upload, in the web request: an XLSX is refused before parsing when its
# sheet is larger (a 500 KB file can unpack to 16 million cells), and while streaming
# (about 70,000 cells a second). Blank rows count, so rows leave room above MAX_ROWS.
LIMITS = Limits(rows=2 * MAX_ROWS, columns=200, cells=400_000, unpacked_bytes=100 << 20)


# --- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A field the file's columns can be mapped to.

    ``synonyms`` are headings that pre-select a column (compared like the customer import
    compares column names: case, umlauts, spaces, hyphens and dots ignored).
    ``max_length`` comes from the model field the value is stored in.
    """

    code: str
    label: Promise
    synonyms: tuple[str, ...]
    max_length: int | None = None


def _max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


TARGETS: tuple[Target, ...] = (
    Target(
        "actor_name",
        gettext_lazy("Actor name"),
        (
            "firma",
            "unternehmen",
            "firmenname",
            "unternehmensname",
            "organisation",
            "organization",
            "company",
            "company name",
            "account",
            "account name",
            "akteur",
            "actor",
        ),
        _max(Actor, "name"),
    ),
    Target(
        "actor_kind",
        gettext_lazy("Actor kind"),
        ("art", "typ", "akteursart", "firmentyp", "kind", "type", "actor kind", "account type"),
    ),
    Target("stage", gettext_lazy("Stage"), ("stufe", "kettenstufe", "stage", "chain stage")),
    Target(
        "contact_name",
        gettext_lazy("Contact name"),
        (
            "ansprechpartner",
            "ansprechpartnerin",
            "kontakt",
            "kontaktperson",
            "name",
            "contact",
            "contact name",
            "contact person",
            "full name",
        ),
        _max(Contact, "name"),
    ),
    Target(
        "first_name",
        gettext_lazy("First name"),
        ("vorname", "first name", "firstname", "given name"),
    ),
    Target(
        "last_name",
        gettext_lazy("Last name"),
        ("nachname", "familienname", "last name", "lastname", "surname", "family name"),
    ),
    Target(
        "role",
        pgettext_lazy("job", "Role"),
        ("position", "funktion", "rolle", "stellung", "title", "job title", "role"),
        _max(Contact, "role"),
    ),
    Target(
        "email",
        gettext_lazy("Email"),
        ("e-mail", "email", "mail", "e-mail-adresse", "email address", "e-mail address"),
        _max(Contact, "email"),
    ),
    Target(
        "phone",
        gettext_lazy("Phone"),
        (
            "telefon",
            "telefonnummer",
            "tel",
            "mobil",
            "handy",
            "phone",
            "phone number",
            "telephone",
            "business phone",
            "mobile",
        ),
        _max(Contact, "phone"),
    ),
    Target(
        "level",
        gettext_lazy("Contact level"),
        ("kontaktlevel", "kontaktstufe", "kontaktintensität", "contact level", "level"),
    ),
    Target(
        "contact_notes",
        gettext_lazy("Notes on the contact"),
        ("notiz", "notizen", "bemerkung", "bemerkungen", "kommentar", "notes", "note", "comment"),
    ),
    Target(
        "actor_notes",
        gettext_lazy("Notes on the actor"),
        ("firmennotiz", "notizen firma", "account notes", "account description", "company notes"),
    ),
)
TARGET_CODES = tuple(target.code for target in TARGETS)
_BY_CODE = {target.code: target for target in TARGETS}
# A row has a contact when any of these is filled in.
CONTACT_FIELDS = (
    "contact_name",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
    "level",
    "contact_notes",
)


# --- step 1: reading ------------------------------------------------------------------------


@dataclass
class Sheet:
    """The file as text: ``header`` and ``rows`` of stripped cells, ``rownum`` the Excel row
    number of each row. ``errors`` are the reading problems: those without a row concern
    the whole file (nothing can be imported), those with a row name rows the reader had to
    drop (too many values)."""

    filename: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    rownum: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not any(error.row is None for error in self.errors)

    def label(self, position: int) -> str:
        """The column as the user knows it: its heading, or its letter when it has none."""
        heading = self.header[position] if position < len(self.header) else ""
        return heading or _("column %(letter)s") % {"letter": column_letter(position)}

    def cell(self, index: int, position: int | None) -> str:
        if position is None:
            return ""
        row = self.rows[index]
        return row[position] if position < len(row) else ""


@dataclass(frozen=True)
class FileColumn:
    position: int
    letter: str
    label: str
    samples: list[str]


def read_sheet(source, *, filename: str) -> Sheet:
    """Read a CSV (.csv, .txt) or XLSX file; ``source`` is a path, bytes or a file object."""
    log = ErrorLog()
    sheet = Sheet(filename=Path(filename).name)
    table = read_table(source, filename=filename, log=log, limits=LIMITS)
    if table is not None:
        _fill_sheet(sheet, table, log)
    # Reading errors come first in the plan's list; all are kept so that none is lost.
    sheet.errors = log.finish(10**9)
    return sheet


def _fill_sheet(sheet: Sheet, table: Table, log: ErrorLog) -> None:
    # Control characters (a vertical tab pasted from Office) would break every export of
    # the chain later: they go here, before anything is checked or stored.
    header = [strip_control(str(h)).replace("\ufeff", "").strip() for h in table.header]
    rows = [
        [strip_control(str(v)) for v in row]
        for row in table.cells.itertuples(index=False, name=None)
    ]
    if not rows:
        log.add_file("no_data_rows", {"filename": sheet.filename})
        return
    if len(rows) > MAX_ROWS:
        log.add_file(
            _(
                "The file %(filename)s has %(rows)s rows; at most %(max)s rows can be imported "
                "at once. Keep only the rows for this chain (filter the export), or split the "
                "file."
            )
            % {"filename": sheet.filename, "rows": number(len(rows)), "max": number(MAX_ROWS)}
        )
        return
    # No CRM heading holds an email address, and a row of nothing but numbers is data.
    headings = [h for h in header if h]
    looks_like_data = next((h for h in headings if "@" in h), None)
    if looks_like_data is None and all(_is_number(h) for h in headings):
        looks_like_data = headings[0]
    if looks_like_data is not None:
        log.add_file(
            _(
                "The first row of %(filename)s should hold the column headings, but it holds "
                "values such as “%(value)s”. Add a row with headings (for example Company, "
                "Name, Email) and upload the file again."
            )
            % {"filename": sheet.filename, "value": looks_like_data}
        )
        return
    sheet.header = header
    sheet.rows = rows
    sheet.rownum = [int(n) for n in table.rownum]


def sheet_to_json(sheet: Sheet) -> dict:
    """A readable sheet as it is kept between the steps (as JSON beside the upload)."""
    return {
        "filename": sheet.filename,
        "header": sheet.header,
        "rows": sheet.rows,
        "rownum": sheet.rownum,
        "errors": [error.to_json() for error in sheet.errors],
    }


def sheet_from_json(data: dict) -> Sheet:
    return Sheet(
        filename=data["filename"],
        header=list(data["header"]),
        rows=[list(row) for row in data["rows"]],
        rownum=list(data["rownum"]),
        errors=[RowError.from_json(error) for error in data["errors"]],
    )


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", text))


def file_columns(sheet: Sheet) -> list[FileColumn]:
    """The file's columns with a few distinct sample values each, for the mapping form.
    Columns with neither heading nor values (trailing separators) are left out."""
    columns = []
    for position in range(len(sheet.header)):
        samples: list[str] = []
        for row in sheet.rows:
            value = row[position] if position < len(row) else ""
            if value and value not in samples:
                samples.append(value if len(value) <= 40 else value[:39] + "…")
                if len(samples) == SAMPLES:
                    break
        if sheet.header[position] or samples:
            letter = column_letter(position)
            columns.append(FileColumn(position, letter, sheet.label(position), samples))
    return columns


# --- step 2: mapping ------------------------------------------------------------------------


@dataclass
class Mapping:
    """Target code -> column position, and the defaults for rows without kind or stage."""

    columns: dict[str, int] = field(default_factory=dict)
    default_kind: int | None = None
    default_stage: int | None = None

    def to_session(self) -> dict:
        return {"columns": self.columns, "kind": self.default_kind, "stage": self.default_stage}

    @classmethod
    def from_session(cls, data: object, width: int) -> Mapping | None:
        """The mapping kept in the session, or None when it does not fit a file with
        ``width`` columns (the session is ours, but the file may have changed)."""
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            return None
        columns = {}
        for code, position in data["columns"].items():
            if code not in _BY_CODE or not isinstance(position, int):
                return None
            if not 0 <= position < width:
                return None
            columns[code] = position
        kind, stage = data.get("kind"), data.get("stage")
        if not all(value is None or isinstance(value, int) for value in (kind, stage)):
            return None
        return cls(columns, kind, stage)


def guess_mapping(header: list[str]) -> dict[str, int]:
    """Pre-select a column for each target whose synonyms match a heading; each column at
    most once, the first matching column wins."""
    normalised = [normalise(h) for h in header]
    guessed: dict[str, int] = {}
    used: set[int] = set()
    for target in TARGETS:
        synonyms = {normalise(s) for s in target.synonyms}
        for position, heading in enumerate(normalised):
            if heading in synonyms and position not in used:
                guessed[target.code] = position
                used.add(position)
                break
    # Headings such as "E-Mail geschäftlich" or "Telefon Büro": a second, looser pass.
    loose = {"email": ("mail",), "phone": ("telefon", "phone", "mobil")}
    for code, parts in loose.items():
        if code in guessed:
            continue
        for position, heading in enumerate(normalised):
            if position not in used and any(part in heading for part in parts):
                guessed[code] = position
                used.add(position)
                break
    return guessed


# --- step 3: checking -----------------------------------------------------------------------

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Legal forms, written as actor_key leaves them (dots dropped, lower case, umlauts spelled).
LEGAL_FORMS = frozenset(
    {
        # German
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "gbr",
        "ug",
        "haftungsbeschraenkt",
        "ek",
        "ekfr",
        "ekfm",
        "ev",
        "eg",
        "se",
        "co",
        # English
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "plc",
        "corp",
        "corporation",
        # others seen in European CRMs
        "sa",
        "sas",
        "sarl",
        "bv",
        "nv",
        "spa",
        "srl",
        "ab",
        "oy",
    }
)


def actor_key(name: str) -> str:
    """The name as compared for duplicates (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[.'’´`]", "", text)  # "e.K." -> "ek", "Co." -> "co"
    words = re.sub(r"[\W_]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words) or " ".join(name.casefold().split())


def _simple_key(text: str) -> str:
    """Kinds, stages, contact names and roles: case and spaces ignored."""
    return " ".join(text.casefold().split())


def _level_words() -> dict[str, str]:
    """Contact level from what a file may say: the codes, the labels in both languages,
    and plain words (direkt/direct means direct contact now and then)."""
    words = {
        "direct": Contact.Level.OCCASIONAL,
        "direkt": Contact.Level.OCCASIONAL,
        "gelegentlich": Contact.Level.OCCASIONAL,
        "regelmäßig": Contact.Level.REGULAR,
        "regelmaessig": Contact.Level.REGULAR,
        "regelmässig": Contact.Level.REGULAR,
        "indirekt": Contact.Level.INDIRECT,
        "kein": Contact.Level.NONE,
        "keine": Contact.Level.NONE,
        "keiner": Contact.Level.NONE,
        "kein kontakt": Contact.Level.NONE,
        "no": Contact.Level.NONE,
        "nein": Contact.Level.NONE,
    }
    for value, label in Contact.Level.choices:
        words[value] = value
        for language in ("de", "en"):
            with translation.override(language):
                words[str(label)] = value
    return {_simple_key(word): value for word, value in words.items()}


@dataclass
class Catalog:
    """What the rows are compared with, loaded by ``catalog_load``."""

    actors: dict[str, list[tuple[int, str, int]]]  # actor_key -> [(pk, name, kind_id)]
    kinds: dict[int, ActorKind]
    stages: dict[int, Stage]
    members: dict[int, tuple[int, int]]  # actor pk -> (link pk, stage pk)
    contacts: dict[int, list[tuple[str, str, str]]]  # actor pk -> [(name, email, role) keys]
    default_kind: ActorKind | None = None
    default_stage: Stage | None = None

    @cached_property
    def kind_by_key(self) -> dict[str, ActorKind]:
        return {_simple_key(kind.name): kind for kind in self.kinds.values()}

    @cached_property
    def stage_by_key(self) -> dict[str, Stage]:
        found: dict[str, Stage] = {}
        for stage in self.stages.values():
            found.setdefault(_simple_key(stage.name), stage)  # the first of equal names
        return found


def catalog_load(chain: Chain, mapping: Mapping) -> Catalog:
    """Five queries, whatever the size of the catalog or the file."""
    actors: dict[str, list[tuple[int, str, int]]] = {}
    for pk, name, kind_id in Actor.objects.order_by("pk").values_list("pk", "name", "kind_id"):
        actors.setdefault(actor_key(name), []).append((pk, name, kind_id))
    kinds = {kind.pk: kind for kind in ActorKind.objects.all()}
    stages = {stage.pk: stage for stage in chain.stages.all()}
    members = {
        actor_id: (pk, stage_id)
        for pk, actor_id, stage_id in chain.links.values_list("pk", "actor_id", "stage_id")
    }
    contacts: dict[int, list[tuple[str, str, str]]] = {}
    rows = Contact.objects.filter(link__chain=chain).values_list(
        "link__actor_id", "name", "email", "role"
    )
    for actor_id, name, email, role in rows:
        contacts.setdefault(actor_id, []).append(
            (_simple_key(name), email.strip().casefold(), _simple_key(role))
        )
    return Catalog(
        actors=actors,
        kinds=kinds,
        stages=stages,
        members=members,
        contacts=contacts,
        default_kind=kinds.get(mapping.default_kind),
        default_stage=stages.get(mapping.default_stage),
    )


NEW, CATALOG, MEMBER = "new", "catalog", "member"


@dataclass
class PlannedContact:
    row: int
    name: str
    role: str
    email: str
    phone: str
    level: str
    notes: str
    duplicate: str = ""  # why it is skipped; empty for a new contact

    @property
    def display(self) -> str:
        return self.name or _("(unnamed) %(role)s") % {"role": self.role}


@dataclass
class PlannedActor:
    """One actor of the file, however many rows name it."""

    key: str
    name: str  # as written in its first row, or the catalog's name when it is reused
    row: int  # its first row
    status: str  # NEW, CATALOG or MEMBER
    actor_id: int | None = None
    link_id: int | None = None
    kind: ActorKind | None = None
    stage: Stage | None = None
    notes: str = ""
    contacts: list[PlannedContact] = field(default_factory=list)


@dataclass
class PreviewRow:
    row: int
    actor: str = ""
    actor_status: str = ""
    status: str = ""  # NEW, CATALOG, MEMBER, or "" for a row without a usable actor
    kind: str = ""
    stage: str = ""
    contact: PlannedContact | None = None
    level_label: str = ""
    contact_status: str = ""
    notes: list[str] = field(default_factory=list)
    has_error: bool = False


@dataclass
class Counts:
    new_actors: int = 0
    reused: int = 0
    members: int = 0
    new_contacts: int = 0
    skipped: int = 0

    @property
    def anything_new(self) -> bool:
        return bool(self.new_actors or self.reused or self.new_contacts)

    @property
    def fingerprint(self) -> str:
        """Changes when the catalog or chain changed between preview and confirmation."""
        text = f"{self.new_actors}-{self.reused}-{self.members}-{self.new_contacts}-{self.skipped}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Plan:
    actors: list[PlannedActor]
    rows: list[PreviewRow]
    errors: list[RowError]
    error_count: int
    counts: Counts

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    """One data row's values, checked cell by cell."""

    index: int
    row: int
    actor: str
    kind: str
    stage: str
    contact: PlannedContact | None
    actor_notes: str
    preview: PreviewRow


class _Checker:
    """Collects the errors of one plan, each with its row and the file's column."""

    def __init__(self, sheet: Sheet, mapping: Mapping, log: ErrorLog) -> None:
        self.sheet = sheet
        self.mapping = mapping
        self.log = log
        self.rows_with_errors: set[int] = set()

    def column(self, code: str) -> str:
        position = self.mapping.columns.get(code)
        return "" if position is None else self.sheet.label(position)

    def add(self, row: int, code: str, message: str) -> None:
        position = self.mapping.columns.get(code, -1)
        self.log.add_row(row, message, column=self.column(code), order=position)
        self.rows_with_errors.add(row)


def plan_import(sheet: Sheet, mapping: Mapping, catalog: Catalog) -> Plan:
    """Check every row and say what the import would do; no queries, no writes."""
    log = ErrorLog()
    for error in sheet.errors:
        log.add_error(error)
    checker = _Checker(sheet, mapping, log)
    levels = _level_words()
    rows = [_read_row(sheet, mapping, index, checker, levels) for index in range(len(sheet.rows))]

    actors: dict[str, PlannedActor] = {}
    first_rows: dict[str, list[_Row]] = {}
    for row in rows:
        if not row.actor:
            continue
        key = actor_key(row.actor)
        if key not in actors:
            actors[key] = _match_actor(key, row, catalog)
            first_rows[key] = []
        first_rows[key].append(row)
    for key, planned in actors.items():
        _resolve_kind_and_stage(planned, first_rows[key], catalog, checker)
        _plan_contacts(planned, first_rows[key], catalog)

    for row in rows:
        row.preview.has_error = row.row in checker.rows_with_errors
    counts = Counts(
        new_actors=sum(1 for a in actors.values() if a.status == NEW),
        reused=sum(1 for a in actors.values() if a.status == CATALOG),
        members=sum(1 for a in actors.values() if a.status == MEMBER),
        new_contacts=sum(1 for a in actors.values() for c in a.contacts if not c.duplicate),
        skipped=sum(1 for a in actors.values() for c in a.contacts if c.duplicate),
    )
    return Plan(
        actors=list(actors.values()),
        rows=[row.preview for row in rows],
        errors=log.finish(MAX_ERRORS),
        error_count=log.count,
        counts=counts,
    )


def _read_row(
    sheet: Sheet, mapping: Mapping, index: int, checker: _Checker, levels: dict[str, str]
) -> _Row:
    rownum = sheet.rownum[index]
    cells = {code: sheet.cell(index, mapping.columns.get(code)) for code in TARGET_CODES}
    for code in ("actor_name", "contact_name", "first_name", "last_name", "role", "phone"):
        cells[code] = " ".join(cells[code].split())  # line breaks and double spaces
    preview = PreviewRow(row=rownum, actor=cells["actor_name"])

    if not cells["actor_name"]:
        checker.add(rownum, "actor_name", _("The actor name is empty."))
    rejected = set()
    for code, value in cells.items():
        limit = _BY_CODE[code].max_length
        if limit and len(value) > limit:
            checker.add(rownum, code, _too_long(value, limit))
            cells[code] = ""  # reported; not checked further
            rejected.add(code)

    name = cells["contact_name"] or " ".join(
        part for part in (cells["first_name"], cells["last_name"]) if part
    )
    limit = _BY_CODE["contact_name"].max_length
    if len(name) > limit:  # first and last name together
        checker.add(rownum, "last_name", _too_long(name, limit))
        name = ""
        rejected.add("last_name")

    email = cells["email"]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            checker.add(
                rownum, "email", _("Not a valid email address: “%(value)s”.") % {"value": email}
            )

    level = Contact.Level.NONE
    if cells["level"]:
        found = levels.get(_simple_key(cells["level"]))
        if found is None:
            checker.add(
                rownum,
                "level",
                _(
                    "Unknown contact level “%(value)s”. Use direct, indirect or none "
                    "(German: direkt, indirekt, kein), or regular/regelmäßig."
                )
                % {"value": cells["level"]},
            )
        else:
            level = found

    contact = None
    if any(cells[code] for code in CONTACT_FIELDS):
        contact = PlannedContact(
            row=rownum,
            name=name,
            role=cells["role"],
            email=email,
            phone=cells["phone"],
            level=level,
            notes=cells["contact_notes"],
        )
        if rejected & {"contact_name", "first_name", "last_name", "role"}:
            pass  # the over-long name or role is reported already
        elif not name and not contact.role:
            checker.add(
                rownum,
                "contact_name" if "contact_name" in mapping.columns else "last_name",
                _("The row has contact details but neither a contact name nor a role."),
            )
        elif not name and level in (Contact.Level.OCCASIONAL, Contact.Level.REGULAR):
            checker.add(rownum, "level", _("Direct contact needs a name: whom do we talk to?"))
        preview.contact = contact
        preview.level_label = Contact.Level(level).label
    return _Row(
        index=index,
        row=rownum,
        actor=cells["actor_name"],
        kind=cells["actor_kind"],
        stage=cells["stage"],
        contact=contact,
        actor_notes=cells["actor_notes"],
        preview=preview,
    )


def _too_long(value: str, limit: int) -> str:
    return _("The value is too long: %(length)s characters, at most %(max)s are allowed.") % {
        "length": len(value),
        "max": limit,
    }


def _match_actor(key: str, row: _Row, catalog: Catalog) -> PlannedActor:
    """A member of the chain first, then the catalog actor of exactly this name (ignoring
    case), then the oldest catalog actor with the same key; else a new actor."""
    candidates = catalog.actors.get(key, [])
    member = next((c for c in candidates if c[0] in catalog.members), None)
    exact = next((c for c in candidates if c[1].casefold() == row.actor.casefold()), None)
    found = member or exact or (candidates[0] if candidates else None)
    if found is None:
        return PlannedActor(key=key, name=row.actor, row=row.row, status=NEW)
    pk, name, kind_id = found
    planned = PlannedActor(
        key=key, name=name, row=row.row, status=CATALOG, actor_id=pk, kind=catalog.kinds[kind_id]
    )
    if pk in catalog.members:
        planned.status = MEMBER
        planned.link_id, stage_id = catalog.members[pk]
        planned.stage = catalog.stages[stage_id]
    return planned


def _first_value(rows: list[_Row], attribute: str) -> tuple[str, _Row]:
    """The first non-empty value among the actor's rows, with its row (else the first row)."""
    for row in rows:
        value = getattr(row, attribute)
        if value:
            return value, row
    return "", rows[0]


def _resolve_kind_and_stage(
    planned: PlannedActor, rows: list[_Row], catalog: Catalog, checker: _Checker
) -> None:
    """Kind (new actors only) and stage (new chain members only), with the previews."""
    first = rows[0]
    for row in rows[1:]:
        row.preview.notes.append(_("Same actor as in row %(row)s.") % {"row": first.row})
    notes, _row = _first_value(rows, "actor_notes")
    planned.notes = notes

    if planned.status == NEW:
        planned.kind = _pick(
            rows,
            "kind",
            "actor_kind",
            catalog.kind_by_key,
            catalog.default_kind,
            checker,
            unknown=_(
                "Unknown actor kind “%(value)s”. Known kinds: %(known)s. Choose a default kind "
                "in the column mapping to use it instead."
            ),
            missing=_(
                "The new actor “%(actor)s” needs a kind: map a column with the kind or "
                "choose a default kind in the column mapping."
            ),
            replaced=_("Kind “%(value)s” unknown: the default kind %(default)s is used."),
            actor=planned.name,
            known=", ".join(kind.name for kind in catalog.kinds.values()),
        )
    if planned.status in (NEW, CATALOG):
        planned.stage = _pick(
            rows,
            "stage",
            "stage",
            catalog.stage_by_key,
            catalog.default_stage,
            checker,
            unknown=_(
                "Unknown stage “%(value)s”. Stages of this chain: %(known)s. Choose a default "
                "stage in the column mapping to use it instead."
            ),
            missing=_(
                "The actor “%(actor)s” needs a stage in this chain: map a column with the "
                "stage or choose a default stage in the column mapping."
            ),
            replaced=_("Stage “%(value)s” unknown: the default stage %(default)s is used."),
            actor=planned.name,
            known=", ".join(stage.name for stage in catalog.stages.values()),
        )

    status = {
        NEW: _("new actor (will be added to the catalog)"),
        CATALOG: _("actor in catalog: %(name)s (will be reused)") % {"name": planned.name},
        MEMBER: _("already in this chain: %(name)s (contacts are added there)")
        % {"name": planned.name},
    }[planned.status]
    for row in rows:
        row.preview.status = planned.status
        row.preview.actor_status = status
        row.preview.kind = planned.kind.name if planned.kind else ""
        row.preview.stage = planned.stage.name if planned.stage else ""


def _pick(
    rows: list[_Row],
    attribute: str,
    code: str,
    by_key: dict,
    default,
    checker: _Checker,
    *,
    unknown: str,
    missing: str,
    replaced: str,
    actor: str,
    known: str,
):
    """The kind or stage named in the actor's rows, else the default, else an error."""
    value, row = _first_value(rows, attribute)
    if value:
        found = by_key.get(_simple_key(value))
        if found is not None:
            return found
        if default is not None:
            row.preview.notes.append(replaced % {"value": value, "default": default.name})
            return default
        checker.add(row.row, code, unknown % {"value": value, "known": known})
        return None
    if default is not None:
        return default
    checker.add(row.row, code, missing % {"actor": actor})
    return None


def _plan_contacts(planned: PlannedActor, rows: list[_Row], catalog: Catalog) -> None:
    """Each row's contact: new, or a duplicate of one known at the actor or of an earlier row."""
    known = catalog.contacts.get(planned.actor_id, []) if planned.status == MEMBER else []
    seen: list[tuple[str, str, str, int]] = []
    for row in rows:
        contact = row.contact
        if contact is None:
            row.preview.contact_status = _("actor only, no contact")
            continue
        keys = (_simple_key(contact.name), contact.email.casefold(), _simple_key(contact.role))
        reason = _known_duplicate(keys, known)
        if reason:
            contact.duplicate = reason
        else:
            earlier = next((r for *k, r in seen if _same_contact(keys, tuple(k))), None)
            if earlier is not None:
                contact.duplicate = _("duplicate: the same contact as in row %(row)s — skipped") % {
                    "row": earlier
                }
        row.preview.contact_status = contact.duplicate or _("new contact")
        seen.append((*keys, row.row))
        planned.contacts.append(contact)


def _same_contact(a: tuple[str, str, str], b: tuple[str, ...]) -> bool:
    """Same email, or same name, or both unnamed with the same role."""
    if a[1] and a[1] == b[1]:
        return True
    if a[0]:
        return a[0] == b[0]
    return not b[0] and a[2] == b[2]


def _known_duplicate(keys: tuple[str, str, str], known: Iterable[tuple[str, str, str]]) -> str:
    for other in known:
        if keys[1] and keys[1] == other[1]:
            return _("duplicate: already known at this actor (same email) — skipped")
        if keys[0] and keys[0] == other[0]:
            return _("duplicate: already known at this actor (same name) — skipped")
        if not keys[0] and not other[0] and keys[2] == other[2]:
            return _("duplicate: already known at this actor (same role) — skipped")
    return ""


# --- step 4: applying -----------------------------------------------------------------------


@transaction.atomic
def import_apply(*, chain: Chain, plan: Plan, user: AbstractBaseUser) -> Counts:
    """Write a plan without errors: new actors, new chain members, new contacts.

    Three bulk services, so the number of queries does not grow with the file; each
    writes the history rows a save would, in the importing user's name.
    Raises ValidationError (or IntegrityError) when the catalog or the chain changed in a
    way the plan could not know; the transaction then leaves everything as it was.
    """
    if not plan.ok:
        raise ValidationError(_("The file has errors; nothing was imported."))
    # One import at a time per chain: the positions handed out stay in order.
    Chain.objects.select_for_update().filter(pk=chain.pk).values_list("pk").get()
    joining = [planned for planned in plan.actors if planned.status != MEMBER]
    actors = _actors_for(joining, user)
    links = services.links_add_bulk(
        chain=chain,
        links=[
            ChainLink(stage=planned.stage, actor=actors[planned.key], notes=planned.notes)
            for planned in joining
        ],
        user=user,
    )
    link_ids = {planned.key: link.pk for planned, link in zip(joining, links, strict=True)}
    contacts = [
        _contact_new(planned_contact, planned.link_id or link_ids[planned.key], user)
        for planned in plan.actors
        for planned_contact in planned.contacts
        if not planned_contact.duplicate
    ]
    services.contacts_add_bulk(chain=chain, contacts=contacts, user=user)
    services.chain_touch(chain=chain)
    return plan.counts


def _actors_for(joining: list[PlannedActor], user: AbstractBaseUser) -> dict[str, Actor]:
    """The actor of each planned new member (by key): reused from the catalog, or new."""
    reused = Actor.objects.in_bulk(a.actor_id for a in joining if a.status == CATALOG)
    actors = {a.key: reused[a.actor_id] for a in joining if a.actor_id in reused}
    # A catalog actor deleted since the check is created again under its name and kind.
    new = [planned for planned in joining if planned.key not in actors]
    created = services.actors_create_bulk(
        actors=[Actor(name=planned.name, kind=planned.kind) for planned in new], user=user
    )
    actors |= {planned.key: actor for planned, actor in zip(new, created, strict=True)}
    return actors


def _contact_new(planned: PlannedContact, link_id: int, user: AbstractBaseUser) -> Contact:
    # The importing user owns the contacts, as when adding one by hand (contact_add).
    return Contact(
        link_id=link_id,
        name=planned.name,
        role=planned.role,
        email=planned.email,
        phone=planned.phone,
        level=planned.level,
        notes=planned.notes,
        owner=user,
    )
