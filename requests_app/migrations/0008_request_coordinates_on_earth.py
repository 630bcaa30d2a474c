# Request coordinates are a place on Earth (NaN included in what is refused).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0007_per_tenant_numbers_and_tracking_keys"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="servicerequest",
            constraint=models.CheckConstraint(
                condition=models.Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="request_coordinates_on_earth",
            ),
        ),
    ]
