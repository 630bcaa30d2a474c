# Request numbers per tenant, and a random key for tracking links (existing rows get theirs).

import secrets

from django.db import migrations, models

import requests_app.models


def number_and_key_existing(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    ServiceRequest = apps.get_model("requests_app", "ServiceRequest")
    for tenant in Tenant.objects.all():
        rows = list(ServiceRequest.objects.filter(tenant=tenant).order_by("pk"))
        for number, row in enumerate(rows, start=1):
            row.number_in_tenant = number
            row.tracking_key = secrets.token_urlsafe(16)
        ServiceRequest.objects.bulk_update(rows, ["number_in_tenant", "tracking_key"], 500)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE SEQUENCE IF NOT EXISTS request_number_tenant_{int(tenant.pk)} "
                "START WITH %s",
                [len(rows) + 1],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tenant_visit_hours'),
        ('requests_app', '0006_idempotency_key_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='servicerequest',
            name='number_in_tenant',
            field=models.PositiveIntegerField(editable=False, null=True, verbose_name='number'),
        ),
        migrations.AddField(
            model_name='servicerequest',
            name='tracking_key',
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.RunPython(number_and_key_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='servicerequest',
            name='tracking_key',
            field=models.CharField(default=requests_app.models.new_tracking_key, editable=False, max_length=32, unique=True),
        ),
        migrations.AddConstraint(
            model_name='servicerequest',
            constraint=models.UniqueConstraint(fields=('tenant', 'number_in_tenant'), name='request_number_unique_per_tenant'),
        ),
    ]
