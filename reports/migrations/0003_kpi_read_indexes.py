"""Indexes for the KPI reads (docs/kpis.md, "Roll-up and performance"): each live population
of a period — and each day the roll-up recomputes — is read by a range of the date that puts
a row in the period, within one tenant, instead of every row of the tenant. They live on other
apps' tables but serve only the reports, so they are created here, in SQL."""

from django.db import migrations

INDEXES = {
    # Planned windows by their end (on-time arrival, windows kept, promise misses).
    "kpi_request_window_end": "requests_app_servicerequest (tenant_id, window_end) "
    "WHERE kind = 'planned'",
    # Requests and emergencies by creation (repeats, channels, emergency SLAs).
    "kpi_request_created": "requests_app_servicerequest (tenant_id, created_at)",
    # Completions of a period (first-time fix, time to restore, complaints per completion).
    "kpi_change_status_time": "requests_app_statuschange (tenant_id, to_status, created_at)",
    # A request's first arrival, read for every window judged.
    "kpi_visit_request_arrival": "technicians_visit (request_id, arrived_at) "
    "WHERE arrived_at IS NOT NULL",
    # Finished visits (unproductive visits) and arrivals (workload) of a period.
    "kpi_visit_finished": "technicians_visit (tenant_id, finished_at) "
    "WHERE finished_at IS NOT NULL",
    "kpi_visit_arrived": "technicians_visit (tenant_id, arrived_at) WHERE arrived_at IS NOT NULL",
    # Shifts of a period (workload).
    "kpi_shift_start": "technicians_shift (tenant_id, start)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_promise_risk"),
        ("requests_app", "0012_customer_language"),
        ("technicians", "0003_location_consent"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES.items()
    ]
