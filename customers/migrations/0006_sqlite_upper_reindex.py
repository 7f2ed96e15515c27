from django.db import migrations


def reindex(apps, schema_editor) -> None:
    """Rebuild SQLite's UPPER(product) index with the Unicode-aware UPPER (lib/db.py).

    Entries written by SQLite's built-in UPPER keep "ü" lower-case; lookups now compute
    "Ü", so the old entries would no longer be found. PostgreSQL needs nothing.
    """
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("REINDEX valuerecord_product_upper")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_product_index"),
    ]

    operations = [
        migrations.RunPython(reindex, migrations.RunPython.noop),
    ]
