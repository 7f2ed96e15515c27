"""What the API's writes take and answer besides the objects (docs/openapi.json).

The request bodies name the fields of the forms the pages use (chain/forms.py); the forms
check the values, so a rule lives in one place. Every field may be left out of an update
(PATCH): what is left out stays as it is. `version` is the object's version as last read
(or send it as `If-Match: "<version>"`); an outdated one is refused with 409.
"""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class WriteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        None, description="The version last read; outdated: 409 with the current object."
    )


class ContactIn(WriteIn):
    name: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    buying_role: str | None = None
    attitude: str | None = None
    level: str | None = None
    relation_now: str | None = None
    relation_goal: str | None = None
    owner_id: int | None = Field(None, description="A member of the chain's team.")
    last_contact: str | None = Field(None, description="YYYY-MM-DD")
    notes: str | None = None


class LinkIn(WriteIn):
    """A chain member's characterisation, with its actor's catalog facts (kind, size)."""

    kind: str | None = Field(None, description="The name of an actor kind of the catalog.")
    size: str | None = None
    actor_version: int | None = Field(
        None, description="The actor's version as last read (checked when kind or size change)."
    )
    count: int | None = None
    competitive_position: str | None = None
    importance: int | None = Field(None, description="1 (low) to 5 (key actor), or null.")
    relationship: str | None = None
    success_factors: list[str] | None = Field(
        None, description="Names of success factors of the catalog."
    )
    success_factors_text: str | None = None
    problems_needs: str | None = None
    notes: str | None = None


class AnswerIn(WriteIn):
    question: str = Field(
        description="Of the chain: scope, coach, chain, key_actors; of a member (with "
        "link_id): known, direct, no_contact."
    )
    link_id: int | None = Field(None, description="The member, for an actor's question.")
    text: str = ""
    version: int | None = Field(
        None,
        description="The answer's version as last read (0: there was no answer yet); "
        "outdated: 409 with the current answer, unless the texts agree.",
    )


class ActionIn(WriteIn):
    title: str | None = None
    owner_id: int | None = Field(None, description="A member of the chain's team.")
    due: str | None = Field(None, description="YYYY-MM-DD")
    notes: str | None = None
    about: str | None = Field(
        None,
        description='What it is about, as on the form: "" (the chain), "link:<id>", '
        '"contact:<id>", "q:<question>", "comment:<id>" or "customer:<number>".',
    )


class ActionCloseIn(WriteIn):
    status: str = Field(description='"done" or "dropped"')


class FieldErrorsOut(Schema):
    """422: the field errors in the requester's language (Accept-Language), by field;
    "__all__" holds those about no single field."""

    detail: str
    errors: dict[str, list[str]]


class ConflictOut(Schema):
    """409: the object changed (or was removed) since the given version was read."""

    detail: str
    current: dict[str, Any] | None


class ImportErrorOut(Schema):
    row: int | None
    column: str
    message: str


class ImportOut(Schema):
    id: int
    url: str
    file_name: str
    status: str
    status_display: str
    progress: int
    rows: int
    customers: int
    periods: int
    created_at: datetime
    message: str
    error_count: int
    errors: list[ImportErrorOut]
