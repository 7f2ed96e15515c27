"""The German catalog is complete, keeps its placeholders, and its compiled .mo is current.

Reads the catalogs with the standard library only (no gettext tools, no database), so it
runs anywhere the tests run. When it fails after template or code changes, refresh the
catalogs:

    python manage.py makemessages -l de -l en --ignore=.venv --ignore=staticfiles
    # translate the new or changed entries in locale/de/LC_MESSAGES/django.po
    python manage.py compilemessages --ignore=.venv
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DE_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"
DE_MO = DE_PO.with_suffix(".mo")
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")

# --- a small .po reader -------------------------------------------------------------------

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
_CONTINUATION = re.compile(r"^(\".*\")\s*$")


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        ctxt = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctxt}{self.msgid!r}"

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]


def parse_po(path: Path) -> tuple[Entry, list[Entry]]:
    """Return the header entry and the message entries; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()
    pending_line = 0

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if (
                current is not None
                and current.msgid is not None
                and target is not None
                and target[0].startswith("msgstr")
            ):
                finish()  # comments start the next entry
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            pending_line = pending_line or number
            continue
        keyword = _KEYWORD.match(line)
        if keyword:
            name, index, token = keyword.group(1), keyword.group(2), keyword.group(3)
            if (
                name in ("msgctxt", "msgid")
                and current is not None
                and target is not None
                and target[0].startswith("msgstr")
            ):
                finish()
            if current is None:
                current = Entry(flags=pending_flags, line=pending_line or number)
                pending_flags, pending_line = set(), 0
            key = "msgstr" if name.startswith("msgstr") else name
            target = (key, int(index) if index is not None else None)
            _append(current, target, _unquote(token), reset=True)
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and current is not None and target is not None:
            _append(current, target, _unquote(continuation.group(1)), reset=False)
            continue
        raise ValueError(f"{path}:{number}: cannot parse {raw!r}")
    finish()

    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    messages = [e for e in entries if not (e.msgid == "" and e.msgctxt is None)]
    assert len(headers) == 1, f"{path}: expected exactly one header entry"
    return headers[0], messages


def _append(entry: Entry, target: tuple[str, int | None], text: str, *, reset: bool) -> None:
    name, index = target
    if name == "msgstr" and index is not None:
        entry.msgstr_plural[index] = ("" if reset else entry.msgstr_plural[index]) + text
    elif name == "msgstr":
        entry.msgstr = ("" if reset else entry.msgstr) + text
    elif name == "msgid":
        entry.msgid = ("" if reset else entry.msgid) + text
    else:  # msgctxt, msgid_plural
        setattr(entry, name, ("" if reset else getattr(entry, name)) + text)


# --- placeholders -------------------------------------------------------------------------

# printf-style (%(name)s, %s, %d, %.1f ...); "%%" is a literal percent sign.
_PRINTF = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*\d*(?:\.\d+)?(?P<conv>[diouxXeEfFgGcrsa%])")
# Django template variables and str.format fields: {{ name }}, {name}, {0}.
_BRACES = re.compile(r"\{\{\s*[\w.|:\"' ]+?\s*\}\}|\{\w*\}")


def placeholders(text: str) -> list[str]:
    found = [m.group(0) for m in _PRINTF.finditer(text) if m.group("conv") != "%"]
    found += [re.sub(r"\s+", "", m.group(0)) for m in _BRACES.finditer(text)]
    return sorted(found)


def printf_is_valid(text: str) -> bool:
    """True if every '%' in text belongs to a conversion or to '%%'."""
    return "%" not in _PRINTF.sub("", text)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def de_catalog() -> tuple[Entry, list[Entry]]:
    assert DE_PO.exists(), f"{DE_PO} is missing: run makemessages -l de"
    return parse_po(DE_PO)


@pytest.fixture(scope="module")
def de_messages(de_catalog) -> list[Entry]:
    return de_catalog[1]


def _report(problem: str, rows: list[str]) -> str:
    where = DE_PO.relative_to(LOCALE_DIR.parent)
    return f"{len(rows)} {problem} in {where}:\n  " + "\n  ".join(rows)


# --- tests --------------------------------------------------------------------------------


def test_parser_reads_multiline_plural_and_context_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgid ""\n"long %(n)s "\n"text"\nmsgstr "lang %(n)s"\n'
        '"\\"Text\\""\n\n'
        'msgctxt "job"\nmsgid "role"\nmsgstr "Funktion"\n\n'
        'msgid "%(n)s actor"\nmsgid_plural "%(n)s actors"\nmsgstr[0] "%(n)s Akteur"\n'
        'msgstr[1] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "weg"\n',
        encoding="utf-8",
    )
    header, messages = parse_po(po)
    assert "Language: de" in header.msgstr
    long, role, plural = messages
    assert (long.msgid, long.msgstr) == ("long %(n)s text", 'lang %(n)s"Text"')
    assert long.flags == {"fuzzy", "python-format"}
    assert (role.msgctxt, role.msgid, role.msgstr, role.flags) == ("job", "role", "Funktion", set())
    assert plural.msgid_plural == "%(n)s actors"
    assert plural.msgstr_plural == {0: "%(n)s Akteur", 1: ""}
    assert placeholders("Delete {{ name }} or {0}, %(n)s %% %d") == sorted(
        ["{{name}}", "{0}", "%(n)s", "%d"]
    )
    assert not printf_is_valid("%(n)s Rabatt: 10 %!")
    assert printf_is_valid("%(n)s Rabatt: 10 %%!")


def test_german_catalog_is_not_empty(de_catalog):
    header, messages = de_catalog
    assert messages, "the German catalog has no messages: run makemessages -l de"
    assert "Language: de" in header.msgstr
    assert "charset=UTF-8" in header.msgstr


def test_every_german_entry_is_translated(de_messages):
    untranslated = [e.label for e in de_messages if not all(e.translations)]
    plural_missing = [
        e.label for e in de_messages if e.msgid_plural is not None and len(e.msgstr_plural) < 2
    ]
    assert not untranslated, _report("untranslated entries", untranslated)
    assert not plural_missing, _report("plural entries without both forms", plural_missing)


def test_no_german_entry_is_fuzzy(de_catalog):
    header, messages = de_catalog
    fuzzy = [e.label for e in [header, *messages] if "fuzzy" in e.flags]
    assert not fuzzy, _report("fuzzy entries (review them, then remove the flag)", fuzzy)


def test_german_translations_keep_the_placeholders(de_messages):
    broken = []
    for entry in de_messages:
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        for index, translation in enumerate(entry.translations):
            if not translation:
                continue  # reported by test_every_german_entry_is_translated
            source = sources[min(index, len(sources) - 1)]
            expected, actual = placeholders(source), placeholders(translation)
            if expected != actual:
                broken.append(
                    f"{entry.label} -> {translation!r}: expected {expected}, got {actual}"
                )
            elif "python-format" in entry.flags and not printf_is_valid(translation):
                broken.append(f"{entry.label} -> {translation!r}: stray '%' (write '%%')")
    assert not broken, _report("translations with wrong placeholders", broken)


def test_compiled_german_catalog_matches_the_po(de_messages):
    assert DE_MO.exists(), f"{DE_MO} is missing: run compilemessages"
    with DE_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "de"

    stale = []
    for entry in de_messages:
        if not all(entry.translations):
            continue  # untranslated entries are reported elsewhere
        if entry.msgid_plural is None:
            got = (
                compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt is not None
                else compiled.gettext(entry.msgid)
            )
            if got != entry.msgstr:
                stale.append(f"{entry.label}: .mo has {got!r}, .po has {entry.msgstr!r}")
            continue
        for n in range(0, 102):
            expected = entry.msgstr_plural.get(compiled.plural(n))
            got = (
                compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt is not None
                else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
            )
            if got != expected:
                stale.append(f"{entry.label} (n={n}): .mo has {got!r}, .po has {expected!r}")
                break
    assert not stale, (
        f"{DE_MO.name} is out of date with {DE_PO.name}; run compilemessages.\n  "
        + "\n  ".join(stale)
    )


def test_english_catalog_exists_and_compiles():
    # English is the source language: the catalog may stay untranslated, but must exist.
    assert EN_PO.exists(), f"{EN_PO} is missing: run makemessages -l en"
    header, _messages = parse_po(EN_PO)
    assert "Language: en" in header.msgstr
    assert EN_MO.exists(), f"{EN_MO} is missing: run compilemessages"
    with EN_MO.open("rb") as handle:
        assert gettext.GNUTranslations(handle).info().get("language") == "en"


def test_every_string_in_the_source_is_in_the_german_catalog(tmp_path):
    """makemessages into a scratch copy: a new string without translation fails here."""
    if shutil.which("xgettext") is None:
        # .ci/run installs gettext; a newcomer's machine may not have it.
        if os.environ.get("CI"):
            pytest.fail("xgettext (Debian package gettext) is not installed")
        pytest.skip("gettext is not installed")
    root = LOCALE_DIR.parent
    scratch = tmp_path / "project"
    shutil.copytree(
        root,
        scratch,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "staticfiles", "test-artifacts", "*.sqlite3", "__pycache__"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete", "-v", "0"],
        cwd=scratch,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    _header, fresh = parse_po(scratch / "locale" / "de" / "LC_MESSAGES" / "django.po")
    missing = [
        entry.label
        for entry in fresh
        if entry.msgid and (not all(entry.translations) or "fuzzy" in entry.flags)
    ]
    assert not missing, _report("strings without a German translation (run makemessages)", missing)
