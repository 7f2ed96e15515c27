from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_sqlite_upper_reindex"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysisrun",
            name="backtest",
            field=models.JSONField(blank=True, default=dict, verbose_name="backtest"),
        ),
    ]
