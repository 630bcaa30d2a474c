"""The manager's report pages: the dashboard (figures, trends, tables; its numbers come from
the KPI API), the requests behind a number, and the exports (CSV and XLSX, streamed)."""

import csv
import tempfile
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required, tenants_served
from core.errors import DomainError, NotFound
from reports import scorecards, selectors, services
from reports.api import DrillQuerySerializer
from reports.models import ExportJob
from reports.report_text import report_words
from requests_app.models import ServiceRequest
from technicians.models import Team, Technician, Visit

EXPORT_COLUMNS = ("number", "kind", "category", "channel", "status", "customer", "created")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BadQuery(DomainError):
    pass


def _query(request: HttpRequest, serializer_class=DrillQuerySerializer):
    query = serializer_class(data=request.GET)
    if not query.is_valid():
        first = next(iter(query.errors.values()))
        raise BadQuery(str(first[0]))
    data = query.validated_data
    try:
        tenant = selectors.report_tenant_for_user(request.user, data.get("tenant"))
    except NotFound as error:  # a client the user does not serve is no page at all
        raise Http404 from error
    f = selectors.kpi_filter_for(
        tenant=tenant,
        first=data["start"],
        last=data["end"],
        territory=data["territory"],
        technician_id=data.get("technician"),
        team_id=data.get("team"),
        category=data["category"],
        channel=data["channel"],
    )
    return f, tenant, data


@role_required(*selectors.REPORT_ROLES)
def report(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    end = timezone.localdate(timezone=tenant.zone)
    technicians = Technician.objects.for_tenant(tenant).select_related("user")
    territories = sorted({t.territory for t in technicians if t.territory})
    return render(
        request,
        "reports/report.html",
        {
            "words": report_words(),
            "tenants": tenants_served(request.user),
            "technicians": technicians,
            "teams": Team.objects.for_tenant(tenant),
            "territories": territories,
            "categories": ServiceRequest.Category.choices,
            "channels": ServiceRequest.Channel.choices,
            "start": end - timezone.timedelta(days=29),
            "end": end,
            "zone": tenant.time_zone,
        },
    )


class CountedPaginator(Paginator):
    """Pages of a figure's requests whose total is the figure's own count (from the roll-up),
    when it has one: a year of rows is not counted again."""

    known_count: int | None = None

    @cached_property
    def count(self) -> int:
        return self.known_count if self.known_count is not None else super().count


@role_required(*selectors.REPORT_ROLES)
def drill_down(request: HttpRequest) -> HttpResponse:
    try:
        f, tenant, data = _query(request)
    except BadQuery as error:
        return render(request, "reports/requests.html", {"error": error.message}, status=400)
    asked = {"key": data["kpi"], "f": f, "tenant": tenant, "part": data["part"]}
    paginator = CountedPaginator(selectors.kpi_requests(**asked), 50)
    paginator.known_count = selectors.kpi_requests_count(**asked)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "reports/requests.html",
        {
            "page": page,
            "kpi": data["kpi"],
            "title": report_words()["kpis"].get(data["kpi"], data["kpi"]),
            "part": data["part"],
            "zone": f.zone,
            "start": data["start"],
            "end": data["end"],
            "query": request.GET.urlencode(),
            "report_tenant": tenant,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(*selectors.REPORT_ROLES)
def export(request: HttpRequest, kind: str) -> HttpResponse:
    """The requests behind a figure as CSV (streamed row by row) or XLSX (written in
    XlsxWriter's constant-memory mode to a temporary file, then streamed)."""
    if kind not in ("csv", "xlsx"):
        return HttpResponse(status=404)
    try:
        f, tenant, data = _query(request)
    except BadQuery as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    rows = selectors.kpi_requests(key=data["kpi"], f=f, tenant=tenant, part=data["part"])
    name = f"{data['kpi']}-{data['part']}-{data['start']}-{data['end']}.{kind}"
    lines = selectors.kpi_export_rows(rows, f.zone)
    if kind == "csv":
        writer = csv.writer(_Echo())
        every = _chain([selectors.kpi_export_headings()], lines)
        response = StreamingHttpResponse(
            (writer.writerow(line) for line in every), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    # Not a `with`: FileResponse streams the file after this returns, and closes it when done.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    services.export_file_write(
        kind=kind, rows=lines, handle=handle, total=0, on_progress=lambda done: None
    )
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


def _chain(*parts):
    for part in parts:
        yield from part


@role_required(*selectors.REPORT_ROLES)
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A finished export's file, to the manager who asked for it (never a public media URL)."""
    try:
        job = selectors.get_export_for_user(request.user, pk)
    except NotFound as error:
        raise Http404 from error
    if job.status != ExportJob.Status.DONE:
        raise Http404
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type=XLSX if job.kind == ExportJob.Kind.XLSX else "text/csv; charset=utf-8",
    )


def _period(request: HttpRequest, tenant):
    end = parse_date(request.GET.get("end") or "") or timezone.localdate(timezone=tenant.zone)
    start = parse_date(request.GET.get("start") or "") or end - timedelta(days=29)
    if start > end or (end - start).days > 400:
        start = end - timedelta(days=29)
    return start, end


@login_required
def scorecard(request: HttpRequest) -> HttpResponse:
    """A technician's own scorecard; managers and admins name a technician of their tenant."""
    try:
        named = int(request.GET["technician"]) if request.GET.get("technician") else None
        technician = scorecards.get_scorecard_technician_for_user(request.user, named)
    except (NotFound, ValueError) as error:
        raise Http404 from error
    tenant = technician.tenant
    start, end = _period(request, tenant)
    f = selectors.kpi_filter_for(tenant=tenant, first=start, last=end)
    card = scorecards.scorecard(technician=technician, f=f, tenant=tenant)
    causes = {**selectors.Cause.LABELS, **dict(Visit.Reason.choices)}
    items = [
        {
            "label": line.label,
            "key": line.key,
            "number": item.number,
            "request_id": item.request_id,
            "cause": causes.get(item.cause, ""),
            "dispute": card.disputes.get((item.request_id, line.key)),
        }
        for line in card.lines
        for item in [*line.against, *line.excused]
    ]
    return render(
        request,
        "reports/scorecard.html",
        {
            "card": card,
            "start": start,
            "end": end,
            "items": items,
            "own": request.user.role == Role.TECHNICIAN,
        },
    )


@require_POST
@role_required(Role.TECHNICIAN)
def dispute_open(request: HttpRequest) -> HttpResponse:
    try:
        technician = scorecards.get_scorecard_technician_for_user(request.user, None)
        services.dispute_open(
            technician=technician,
            request_id=int(request.POST.get("request") or 0),
            kpi=request.POST.get("kpi", ""),
            note=request.POST.get("note", ""),
        )
    except (NotFound, ValueError) as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your note was sent to your manager."))
    return redirect(f"{reverse('reports-scorecard')}?{request.GET.urlencode()}")


@role_required(*selectors.REPORT_ROLES)
def disputes(request: HttpRequest) -> HttpResponse:
    rows = scorecards.disputes_for_user(request.user)
    return render(request, "reports/disputes.html", {"disputes": rows, "items": scorecards.ITEMS})


@require_POST
@role_required(*selectors.REPORT_ROLES)
def dispute_answer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        dispute = scorecards.get_dispute_for_user(request.user, pk)
    except NotFound as error:
        raise Http404 from error
    try:
        services.dispute_answer(
            dispute=dispute,
            manager=request.user,
            answer=request.POST.get("answer", ""),
            upheld=request.POST.get("upheld") == "yes",
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("reports-disputes")
