import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

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
