"""The administrators' analysis thresholds (page customers:thresholds) and the version
each analysis run used; the administrator role gets the permissions to change them."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

ADMIN_PERMISSIONS = ("view_thresholdsettings", "change_thresholdsettings")


def administrators_may_change(apps, schema_editor):
    # The roles are created once (chain/roles.py leaves an existing group alone): the
    # existing administrator group gets the new permissions here. Permissions are normally
    # created after all migrations ran; the group needs them now.
    app_config = apps.get_app_config("customers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="customers", codename__in=ADMIN_PERMISSIONS
    )
    for group in Group.objects.filter(name="administrator"):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_sqlite_upper_reindex"),
        ("chain", "0003_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ThresholdSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "values",
                    models.JSONField(blank=True, default=dict, verbose_name="changed thresholds"),
                ),
                ("changed_at", models.DateTimeField(auto_now_add=True, verbose_name="changed at")),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="changed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "analysis thresholds",
                "verbose_name_plural": "analysis thresholds",
                "ordering": ["-changed_at", "-pk"],
                "get_latest_by": ["changed_at", "pk"],
            },
        ),
        migrations.AddField(
            model_name="analysisrun",
            name="threshold_settings",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="runs",
                to="customers.thresholdsettings",
                verbose_name="threshold settings",
            ),
        ),
        migrations.RunPython(administrators_may_change, migrations.RunPython.noop),
    ]
