from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("technicians", "0002_emergency_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="technician",
            name="location_consent",
            field=models.BooleanField(default=False, verbose_name="shares location while en route"),
        ),
        migrations.AddField(
            model_name="technician",
            name="location_consent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
