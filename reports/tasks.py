"""Background work of the reports: a large export, its reconciler, and the nightly roll-up."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Tenant
from config.celery import task
from reports import services

log = logging.getLogger(__name__)


@task(queue="default", time_limit=1800)
def run_export(*, job_id: int) -> str:
    """Write one export; a second delivery finds it claimed or done and returns."""
    job = services.export_job_claim(job_id=job_id)
    if job is None:
        return "skipped"
    try:
        services.export_job_run(job=job)
    except Exception as error:
        log.exception("export %s failed", job_id)
        services.export_job_fail(job_id=job_id, error=str(error))
        raise
    return "done"


@task(queue="default", time_limit=120)
def reconcile_exports() -> dict:
    """Beat: exports whose message was lost or whose worker died are sent again (the worker
    claims them with its conditional update, so a live one is never doubled); one that kept
    stopping its worker fails with a message the page shows."""
    redrive, give_up = services.export_jobs_to_redrive(now=timezone.now())
    failed = sum(services.export_job_give_up(job_id=job_id) for job_id in give_up)
    for job_id in redrive:
        run_export.delay(job_id=job_id)
    return {"redriven": len(redrive), "failed": failed}


@task(queue="default", time_limit=3600)
def refresh_daily_kpis() -> int:
    """Roll up the last KPI_ROLLUP_DAYS days of every tenant's calendar (not today, which is
    always live): late facts — a completion, a reopening — reach the days they belong to."""
    kept = 0
    for tenant in Tenant.objects.order_by("pk"):
        today = timezone.localdate(timezone=tenant.zone)
        kept += services.daily_kpis_refresh_days(
            tenant=tenant,
            first=today - timedelta(days=settings.KPI_ROLLUP_DAYS),
            last=today - timedelta(days=1),
        )
    return kept
