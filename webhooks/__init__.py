"""Webhooks: administrators register receivers that hear of chain reviews, type changes,
finished imports and overdue actions (README, "Webhooks").

`emit(event, data)` is all that the other apps call, inside the transaction of their
write: it only adds delivery rows, and the worker sends them after the commit.
"""

from typing import Any


def emit(event: str, data: dict[str, Any]) -> int:
    """One delivery of `event` for every active hook that subscribes to it; returns how
    many. Sending happens in the worker after the surrounding transaction commits."""
    from .services import deliveries_create

    return len(deliveries_create(event=event, data=data))


def subscribed(event: str) -> bool:
    """Whether any active hook hears of `event`: spares building payloads nobody gets."""
    from .services import hooks_for

    return bool(hooks_for(event))
