# A request a dispatcher unassigned is held from the planner until a dispatcher releases it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0008_request_coordinates_on_earth"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicerequest",
            name="held",
            field=models.BooleanField(default=False, verbose_name="held by a dispatcher"),
        ),
    ]
