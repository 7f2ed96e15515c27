from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_threshold_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysisrun",
            name="backtest",
            field=models.JSONField(blank=True, default=dict, verbose_name="backtest"),
        ),
    ]
