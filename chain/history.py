"""Bookkeeping for the change history (django-simple-history).

Every historical row carries the id of the request (or command) that wrote it. Removing an
actor also removes its contacts and influences in the same request, so restoring the actor
can bring back exactly those rows: the ones deleted in the same batch.
"""

import uuid

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class HistoryBatch(models.Model):
    history_batch = models.UUIDField(_("change batch"), null=True, editable=False, db_index=True)

    class Meta:
        abstract = True


def _current_batch() -> uuid.UUID:
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        # Outside a request (shell, commands, tests calling services): one batch per row.
        return uuid.uuid4()
    if not hasattr(request, "history_batch"):
        request.history_batch = uuid.uuid4()
    return request.history_batch


@receiver(pre_create_historical_record)
def _stamp_batch(sender, history_instance, **kwargs) -> None:
    if isinstance(history_instance, HistoryBatch):
        history_instance.history_batch = _current_batch()
