"""The three roles as groups: sales, manager, administrator (see README, "Roles")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from chain.roles import roles_ensure

def roles_create(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chain", "0002_history_versions_review"),
        ("customers", "0002_purchases"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
