"""The three roles as groups: sales, manager, administrator (see README, "Roles")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CHAIN_PARTS = ["chain", "stage", "chainlink", "contact", "influence", "worksheetanswer"]
CATALOGS = ["actorkind", "actor", "successfactor", "team"]

ROLES = {
    # Works on its own teams' chains; reads the customer analysis.
    "sales": [
        *(f"chain.{verb}_{model}" for model in CHAIN_PARTS for verb in ("view", "add", "change", "delete")),
        "chain.view_actor",
        "chain.add_actor",
        "chain.view_reviewcomment",
        "chain.change_reviewcomment",
        "chain.view_chainsnapshot",
        "customers.view_customer",
        "customers.view_assessment",
    ],
    # Sees every chain, reviews it, imports customer data, sees the dashboards.
    "manager": [
        "chain.view_chain",
        "chain.view_all_chains",
        "chain.review_chain",
        "chain.view_reviewcomment",
        "chain.add_reviewcomment",
        "chain.change_reviewcomment",
        "chain.view_chainsnapshot",
        "chain.add_chainsnapshot",
        "customers.view_customer",
        "customers.view_assessment",
        "customers.import_values",
    ],
    # Keeps the catalogs, users and teams in the Django admin (the user also needs is_staff).
    "administrator": [
        *(f"chain.{verb}_{model}" for model in CATALOGS for verb in ("view", "add", "change", "delete")),
        *(f"auth.{verb}_{model}" for model in ("user", "group") for verb in ("view", "add", "change", "delete")),
    ],
}


def roles_create(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chain", "0002_history_versions_review"),
        ("customers", "0002_purchases"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
