"""A chain with every text field at its maximum length: the worst case of the exports.

Shared by the export tests and bench/pdf_limits.py. Rows are written with bulk_create,
bypassing forms and services, as a row stored before a check existed would be.
"""

from django.contrib.auth.models import User

from chain.models import (
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    Contact,
    Influence,
    Question,
    ReviewComment,
    Stage,
    SuccessFactor,
    WorksheetAnswer,
)
from tests.factories import make_kind

# Prose of ordinary words, and the attack on the PDF: one word without any break.
WORDS = "Lieferzeit Regalplatz Fliesenleger entscheiden über den Kleber im Baumarkt. "


def filler(length: int, style: str, mark: str = "") -> str:
    """`length` characters: prose (`words`), or a single unbroken token (`token`).

    `mark` starts the text, so that a test can find it in the export.
    """
    prose = (WORDS * (length // len(WORDS) + 1))[:length]
    body = "X" * length if style == "token" else prose
    return (mark + body)[:length]


def _max(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def fill_chain(
    chain: Chain,
    *,
    actors: int = 60,
    contacts_each: int = 2,
    comments: int = 20,
    style: str = "words",
    user: User | None = None,
) -> None:
    """Give `chain` `actors` members over its stages, every text at its maximum length."""

    def text(model, field: str, mark: str = "") -> str:
        return filler(_max(model, field), style, mark)

    chain.coach_whom = text(Chain, "coach_whom", "COACH ")
    chain.save(update_fields=["coach_whom"])
    stages = list(chain.stages.all())
    for i, stage in enumerate(stages):
        stage.name = text(Stage, "name", f"S{i} ")
        stage.save(update_fields=["name"])
    kind = make_kind(text(ActorKind, "name", "KIND "))
    factors = [
        SuccessFactor.objects.get_or_create(
            name=filler(_max(SuccessFactor, "name"), style, f"F{i} ")
        )[0]
        for i in range(3)
    ]
    new_actors = Actor.objects.bulk_create(
        Actor(
            name=filler(_max(Actor, "name"), style, f"A{i:03d} "),
            kind=kind,
            notes=text(Actor, "notes"),
        )
        for i in range(actors)
    )
    links = ChainLink.objects.bulk_create(
        ChainLink(
            chain=chain,
            stage=stages[i % len(stages)],
            actor=actor,
            position=i,
            importance=1 + i % 5,
            success_factors_text=text(ChainLink, "success_factors_text"),
            problems_needs=text(ChainLink, "problems_needs"),
            notes=text(ChainLink, "notes", f"NOTE{i:03d} "),
        )
        for i, actor in enumerate(new_actors)
    )
    through = ChainLink.success_factors.through
    through.objects.bulk_create(
        through(chainlink=link, successfactor=factor) for link in links for factor in factors
    )
    Contact.objects.bulk_create(
        Contact(
            link=link,
            name=text(Contact, "name", f"C{link.pk}-{j} "),
            role=text(Contact, "role"),
            phone=filler(_max(Contact, "phone"), "words"),
            level=Contact.Level.REGULAR,
            notes=text(Contact, "notes", f"CNOTE{link.pk}-{j} "),
        )
        for link in links
        for j in range(contacts_each)
    )
    Influence.objects.bulk_create(
        Influence(chain=chain, source=a, target=b, description=text(Influence, "description"))
        for a, b in zip(links, links[1:], strict=False)
    )
    chain_questions = [q for q in Question if q.value in ("scope", "coach", "chain", "key_actors")]
    actor_questions = [q for q in Question if q not in chain_questions]
    WorksheetAnswer.objects.bulk_create(
        [
            WorksheetAnswer(
                chain=chain,
                question=q,
                text=text(WorksheetAnswer, "text", "ANSWER "),
                updated_by=user,
            )
            for q in chain_questions
        ]
        + [
            WorksheetAnswer(
                chain=chain,
                link=link,
                question=q,
                text=text(WorksheetAnswer, "text"),
                updated_by=user,
            )
            for link in links
            for q in actor_questions
        ]
    )
    ReviewComment.objects.bulk_create(
        ReviewComment(chain=chain, link=links[i % len(links)], text=text(ReviewComment, "text"))
        for i in range(comments)
    )
