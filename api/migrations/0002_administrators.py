"""The administrator role sees and revokes every user's API tokens (api.manage_all_tokens)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def administrators_may_manage(apps, schema_editor):
    # As customers/migrations/0007: the roles are created once and an existing group is left
    # alone (chain/roles.py), so the administrator group gets the new permission here.
    app_config = apps.get_app_config("api")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="api", codename="manage_all_tokens")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("chain", "0003_roles"),
    ]

    operations = [migrations.RunPython(administrators_may_manage, migrations.RunPython.noop)]
