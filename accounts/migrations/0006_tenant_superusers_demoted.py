# A tenant's user is never platform staff: superusers that belong to a client (as the demo's
# admin used to) keep their tenant administration and lose the platform's rights.

from django.db import migrations, models


def demote(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_superuser=True, tenant__isnull=False).update(is_superuser=False)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_contact_point_signature"),
    ]

    operations = [
        migrations.RunPython(demote, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("is_superuser", False), ("tenant__isnull", True), _connector="OR"),
                name="superuser_has_no_tenant",
            ),
        ),
    ]
