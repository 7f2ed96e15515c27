"""The customer value types (docs/method.md): the vocabulary the chain and the customer
analysis share (a chain can be about customers of one type; the diagram shows them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


# The German names (locale/de) are exactly those of docs/method.md's table: sales teams
# know the types by them; tests/test_formats.py holds the table and checks the catalog.
class ValueType(models.TextChoices):
    STEADY = "steady", _("steady customer")
    CYCLIC = "cyclic", _("cyclic customer")
    BELL = "bell", _("bell customer")
    GROWTH = "growth", _("growth customer")
    SHRINKING = "shrinking", _("shrinking customer")
    BURR = "burr", _("burr customer")
    INSUFFICIENT_DATA = "insufficient_data", _("insufficient data")


# What a chain can be about: a real type, not "too little data".
CHAIN_VALUE_TYPES = [c for c in ValueType.choices if c[0] != ValueType.INSUFFICIENT_DATA]
