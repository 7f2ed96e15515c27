import shutil
from pathlib import Path

import pandas as pd
import pytest
from django.contrib.auth.models import Permission

from customers.services import analysis_run_create, value_records_load
from customers.synthetic import generate

FILES = Path(__file__).parent / "files"


@pytest.fixture
def importer(owner):
    """A user who may import customer data (a manager, once roles exist)."""
    owner.user_permissions.add(Permission.objects.get(codename="import_values"))
    return owner


@pytest.fixture
def client_importer(client, importer):
    client.force_login(importer)
    return client


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield settings.MEDIA_ROOT
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def analysed(db):
    """A few dozen synthetic customers of every type, loaded and analysed."""
    history, _types, _future = generate(60, seed=7, as_of=pd.Timestamp("2026-06-01"))
    history = history.assign(customer_name="Firma " + history["customer_id"].astype(str))
    value_records_load(history=history)
    return analysis_run_create()
