"""Writes of the reports: large exports (asked for, then written by a worker with its
progress), the nightly roll-up, and scorecard disputes."""

import csv
import io
import tempfile
from datetime import date, timedelta

import xlsxwriter
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tenant, User
from core import followups
from core.errors import DomainError, NotFound
from reports import selectors
from reports.models import DailyKpi, Dispute, ExportJob
from reports.scorecards import ITEMS
from requests_app.models import ServiceRequest
from technicians.models import Technician

RUN_EXPORT = "reports.tasks.run_export"
# A running export not heard of for this long was lost with its worker: it may run again.
EXPORT_STALE = timedelta(minutes=10)
PROGRESS_EVERY = 1000


@transaction.atomic
def export_job_create(*, user: User, tenant: Tenant, kind: str, query: dict) -> ExportJob:
    job = ExportJob.objects.create(tenant=tenant, requested_by=user, kind=kind, query=query)
    followups.enqueue_on_commit(RUN_EXPORT, job_id=job.pk)
    return job


def export_job_claim(*, job_id: int) -> ExportJob | None:
    """Take the job for this worker with one conditional update, committed at once so the page
    sees it: None when it is done, failed, or in the hands of a worker that is still alive."""
    stale = timezone.now() - EXPORT_STALE
    waiting = Q(status=ExportJob.Status.PENDING) | Q(
        status=ExportJob.Status.RUNNING, updated_at__lt=stale
    )
    claimed = ExportJob.objects.filter(waiting, pk=job_id).update(
        status=ExportJob.Status.RUNNING,
        progress=0,
        rows_done=0,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return ExportJob.objects.select_related("tenant").get(pk=job_id) if claimed else None


def export_file_write(*, kind: str, rows, handle, total: int, on_progress) -> None:
    """Write the headings and rows to `handle` (binary) as CSV or XLSX; `on_progress(done)`
    every PROGRESS_EVERY rows. XLSX in XlsxWriter's constant-memory mode: one row in memory."""
    done = 0
    if kind == ExportJob.Kind.CSV:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(selectors.kpi_export_headings())
        for row in rows:
            writer.writerow(row)
            done += 1
            if done % PROGRESS_EVERY == 0:
                on_progress(done)
        text.detach()  # the caller keeps the file open
    else:
        workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False})
        sheet = workbook.add_worksheet("KPI")
        sheet.write_row(0, 0, selectors.kpi_export_headings())
        for row in rows:
            done += 1
            sheet.write_row(done, 0, row)
            if done % PROGRESS_EVERY == 0:
                on_progress(done)
        workbook.close()
    on_progress(done)


def export_job_run(*, job: ExportJob) -> None:
    """Write the export's file through the storage API, counting progress in the row (each
    update commits on its own: no transaction is held while the file is written)."""
    query = job.query
    f = selectors.kpi_filter_for(
        tenant=job.tenant,
        first=date.fromisoformat(query["start"]),
        last=date.fromisoformat(query["end"]),
        territory=query.get("territory", ""),
        technician_id=query.get("technician"),
        team_id=query.get("team"),
        category=query.get("category", ""),
        channel=query.get("channel", ""),
    )
    rows = selectors.kpi_requests(
        key=query["kpi"], f=f, tenant=job.tenant, part=query.get("part", "all")
    )
    total = rows.count()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total, updated_at=timezone.now())

    def on_progress(done: int) -> None:
        percent = min(99, 100 * done // total) if total else 99
        ExportJob.objects.filter(pk=job.pk).update(
            rows_done=done, progress=percent, updated_at=timezone.now()
        )

    with tempfile.TemporaryFile() as handle:
        export_file_write(
            kind=job.kind,
            rows=selectors.kpi_export_rows(rows, f.zone),
            handle=handle,
            total=total,
            on_progress=on_progress,
        )
        handle.seek(0)
        name = f"{query['kpi']}-{query['start']}-{query['end']}.{job.kind}"
        job.file.save(f"{job.tenant_id}/{job.pk}-{name}", File(handle, name=name), save=False)
    ExportJob.objects.filter(pk=job.pk).update(
        file=job.file.name,
        status=ExportJob.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


# An export still waiting this long after it was asked for lost its doorbell (Redis dropped the
# message before a worker took it).
EXPORT_PENDING_GRACE = timedelta(minutes=2)
# A worker that died this many times on one export will die again: the export fails instead.
EXPORT_MAX_ATTEMPTS = 3


def export_jobs_to_redrive(*, now, limit: int = 100) -> tuple[list[int], list[int]]:
    """Exports whose doorbell was lost or whose worker died: (to run again, to give up on).
    PostgreSQL is the truth: a job waiting past its grace, or running without a word for
    EXPORT_STALE, is work nobody is doing."""
    lost = Q(status=ExportJob.Status.PENDING, created_at__lt=now - EXPORT_PENDING_GRACE) | Q(
        status=ExportJob.Status.RUNNING, updated_at__lt=now - EXPORT_STALE
    )
    rows = ExportJob.objects.filter(lost).order_by("created_at").values_list("pk", "attempts")
    redrive, give_up = [], []
    for pk, attempts in rows[:limit]:
        (give_up if attempts >= EXPORT_MAX_ATTEMPTS else redrive).append(pk)
    return redrive, give_up


def export_job_give_up(*, job_id: int) -> bool:
    """Fail an export that stopped its worker EXPORT_MAX_ATTEMPTS times, if it is still
    stuck (one conditional update: a worker that came back to life keeps it)."""
    stale = timezone.now() - EXPORT_STALE
    stuck = Q(status=ExportJob.Status.PENDING) | Q(
        status=ExportJob.Status.RUNNING, updated_at__lt=stale
    )
    return bool(
        ExportJob.objects.filter(stuck, pk=job_id, attempts__gte=EXPORT_MAX_ATTEMPTS).update(
            status=ExportJob.Status.FAILED,
            error=_("The export stopped %(n)s times; ask for it again or narrow it.")
            % {"n": EXPORT_MAX_ATTEMPTS},
            updated_at=timezone.now(),
        )
    )


def export_job_fail(*, job_id: int, error: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.FAILED, error=error[:300], updated_at=timezone.now()
    )


# ---- The nightly roll-up -------------------------------------------------------------------


# Days rolled up in one pass: a month's rows of the promise-miss rules stay small in memory.
ROLLUP_CHUNK_DAYS = 31


def daily_kpis_refresh(*, tenant: Tenant, day: date) -> int:
    """Recompute one day of the tenant's calendar (see `daily_kpis_refresh_days`)."""
    return daily_kpis_refresh_days(tenant=tenant, first=day, last=day)


def daily_kpis_refresh_days(*, tenant: Tenant, first: date, last: date) -> int:
    """Recompute the days `first`…`last` of the tenant's calendar: every figure that adds up
    over days, by category and channel, replacing those days' rows (so running it twice
    changes nothing). Grouped queries over a month at a time, each month in its own
    transaction. Returns the rows kept."""
    kept = 0
    while first <= last:
        until = min(last, first + timedelta(days=ROLLUP_CHUNK_DAYS - 1))
        kept += _daily_kpis_replace(tenant=tenant, first=first, last=until)
        first = until + timedelta(days=1)
    return kept


@transaction.atomic
def _daily_kpis_replace(*, tenant: Tenant, first: date, last: date) -> int:
    f = selectors.kpi_filter_for(tenant=tenant, first=first, last=last)
    cells = selectors.kpi_cells_by_day(f=f, tenant=tenant)
    DailyKpi.objects.filter(tenant=tenant, day__gte=first, day__lte=last).delete()
    kept = [cell for cell in cells if cell["total"] or cell["kpi"] == selectors.ROLLUP_MARK]
    DailyKpi.objects.bulk_create(
        (DailyKpi(tenant=tenant, **cell) for cell in kept), batch_size=5000
    )
    return len(kept)


# ---- Scorecard disputes --------------------------------------------------------------------


class DisputeClosed(DomainError):
    status_code = 409
    code = "dispute_answered"


@transaction.atomic
def dispute_open(*, technician: Technician, request_id: int, kpi: str, note: str) -> Dispute:
    """A technician objects to an item counted against them; one objection per item."""
    note = note.strip()
    if not note:
        raise DomainError(_("Say why the item is not yours."), field="note")
    if kpi not in ITEMS:
        raise DomainError(_("Not an item of the scorecard."), field="kpi")
    request = (
        ServiceRequest.objects.for_tenant(technician.tenant_id)
        .filter(pk=request_id, visits__technician=technician)
        .first()
    )
    if request is None:
        raise NotFound()
    dispute, created = Dispute.objects.get_or_create(
        technician=technician,
        request=request,
        kpi=kpi,
        defaults={"tenant_id": technician.tenant_id, "note": note[:2000]},
    )
    if not created and dispute.answered_at is not None:
        raise DisputeClosed(_("This item was already answered."))
    return dispute


@transaction.atomic
def dispute_answer(*, dispute: Dispute, manager: User, answer: str, upheld: bool) -> Dispute:
    """The manager's answer: upheld (the item is not the technician's) or not, with a word."""
    answer = answer.strip()
    if not answer:
        raise DomainError(_("Write an answer."), field="answer")
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if locked.answered_at is not None:
        raise DisputeClosed(_("This item was already answered."))
    locked.answer, locked.upheld = answer[:2000], upheld
    locked.answered_by, locked.answered_at = manager, timezone.now()
    locked.save(update_fields=["answer", "upheld", "answered_by", "answered_at"])
    return locked
