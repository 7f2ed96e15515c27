from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from api.api import openapi_text

DEFAULT = Path(settings.BASE_DIR) / "docs" / "openapi.json"


class Command(BaseCommand):
    help = "Write the API's OpenAPI schema (default: docs/openapi.json)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=DEFAULT)

    def handle(self, *args, output: Path, **options):
        output.write_text(openapi_text())
        self.stdout.write(f"Wrote {output}")
