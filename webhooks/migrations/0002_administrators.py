"""The administrator role manages the webhooks (chain/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_webhook", "add_webhook", "change_webhook", "delete_webhook"]


def administrators_may_manage(apps, schema_editor):
    # As api/migrations/0002: the roles are created once and an existing group is left
    # alone (chain/roles.py), so the administrator group gets the new permissions here.
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="webhooks", codename__in=CODENAMES
    )
    for group in Group.objects.filter(name="administrator"):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("chain", "0003_roles"),
    ]

    operations = [migrations.RunPython(administrators_may_manage, migrations.RunPython.noop)]
