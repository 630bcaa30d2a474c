"""Survey pages: the customer's link (no login), the kiosk (a registered device, no login), and
the manager's and operator's screens (results, follow-up cases, phone calls, audits, import).

Public pages answer with `Referrer-Policy: no-referrer` and `Cache-Control: no-store`: the
token is in the address, and must leave it neither by a Referer header nor through a cache."""

import csv
import io
import json
from datetime import datetime, time, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts.models import Role, User
from accounts.permissions import role_required
from core.errors import DomainError, NotFound
from core.tenancy import tenant_enter
from surveys import collection, selectors, services
from surveys.answers import field_name
from surveys.models import Audit, AuditForm, CallAttempt, ServicePoint

MANAGERS = (Role.MANAGER, Role.ADMIN)
CALLERS = (Role.OPERATOR, Role.MANAGER, Role.ADMIN)
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def survey_rate(group, request) -> str:
    return settings.SURVEY_RATE


def kiosk_rate(group, request) -> str:
    return settings.KIOSK_RATE


def private_page(view):
    """No Referer leaves a page whose address is a key, and no cache keeps it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response

    return wrapped


def _language(request: HttpRequest, default: str) -> str:
    """The customer's language (the tenant's), unless they picked another on the page."""
    for chosen in (request.GET.get("lang"), request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        if chosen in LANGUAGE_CODES:
            return chosen
    return default


def _questions_view(questions, language: str, values=None) -> list[dict]:
    values = values or {}
    rows = []
    for question in questions:
        name = field_name(question)
        low, high = question.RANGES.get(question.kind, (None, None))
        choices = []
        if question.kind == question.Kind.SOLVED:
            choices = [(1, _("Yes")), (0, _("No"))]
        elif low is not None:
            choices = [(n, str(n)) for n in range(low, high + 1)]
        rows.append(
            {
                "name": name,
                "kind": question.kind,
                "text": question.text(language),
                "required": question.required,
                "choices": choices,
                "value": str(values.get(name, "")),
            }
        )
    return rows


# ---- The customer's link ---------------------------------------------------------------------


# No CSRF token: the link's token is the only authority here (no session is involved), and a
# page with `Referrer-Policy: no-referrer` posts with `Origin: null`, which the CSRF check
# refuses. Whoever holds the token may answer; a forged post from elsewhere would need it.
@csrf_exempt
@private_page
@ratelimit(key="ip", rate=survey_rate, block=True)
def survey_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = selectors.invitation_for_token(token)
    except selectors.Gone as gone:
        return render(request, "surveys/link_gone.html", {"message": gone.message}, status=410)
    except NotFound:
        return render(
            request,
            "surveys/link_gone.html",
            {"message": _("This survey link is not valid.")},
            status=404,
        )
    tenant = invitation.tenant
    tenant_enter(tenant.pk)
    timezone.activate(tenant.zone)
    language = _language(request, invitation.language)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    questions = list(invitation.template.questions.all())
    errors, status = {}, 200
    if request.method == "POST":
        if request.POST.get("action") == "opt_out":
            services.opt_out_by_link(token=token)
            return render(request, "surveys/link_done.html", {"tenant": tenant, "opted_out": True})
        try:
            services.response_by_link(token=token, raw=request.POST)
        except services.AnswersInvalid as invalid:
            errors, status = invalid.errors, 400
        except selectors.Gone as gone:
            return render(request, "surveys/link_gone.html", {"message": gone.message}, status=410)
        else:
            return render(request, "surveys/link_done.html", {"tenant": tenant})
    context = {
        "tenant": tenant,
        "number": invitation.request.number,
        "questions": _questions_view(questions, language, request.POST),
        "errors": errors,
    }
    return render(request, "surveys/link.html", context, status=status)


# ---- Kiosk -----------------------------------------------------------------------------------


@private_page
@ratelimit(key="ip", rate=kiosk_rate, block=True)
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    try:
        device = selectors.kiosk_for_token(token)
    except NotFound:
        return render(
            request,
            "surveys/link_gone.html",
            {"message": _("This terminal is not registered.")},
            status=404,
        )
    tenant = device.tenant
    tenant_enter(tenant.pk)
    language = _language(request, tenant.language)
    translation.activate(language)
    template = services.template_for(tenant_id=tenant.pk, purpose="kiosk")
    questions = _questions_view(selectors.questions_of(template), language)
    return render(
        request,
        "surveys/kiosk.html",
        {
            "device": device,
            "tenant": tenant,
            "questions": questions,
            "languages": settings.LANGUAGES,
        },
    )


@csrf_exempt  # the device's token in the address is the credential; no session, no cookie
@private_page
@require_POST
@ratelimit(key="ip", rate=kiosk_rate, block=True)
def kiosk_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        device = selectors.kiosk_for_token(token)
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except NotFound:
        return JsonResponse({"detail": _("This terminal is not registered.")}, status=404)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": _("The body is not a JSON object.")}, status=400)
    tenant_enter(device.tenant_id)
    try:
        response, created = collection.response_from_kiosk(
            device=device,
            client_id=body.get("client_id"),
            raw=body.get("answers") if isinstance(body.get("answers"), dict) else {},
            language=str(body.get("language") or "")[:8],
        )
    except services.AnswersInvalid as invalid:
        return JsonResponse({"detail": invalid.message, "errors": invalid.errors}, status=400)
    except DomainError as error:
        return JsonResponse(
            {"detail": error.message, error.field or "detail": [error.message]},
            status=error.status_code,
        )
    return JsonResponse({"id": response.pk, "created": created}, status=201 if created else 200)


# ---- Managers --------------------------------------------------------------------------------


def _period(request: HttpRequest, zone) -> tuple[datetime, datetime, str, str]:
    today = timezone.localdate(timezone=zone)
    start = parse_date(request.GET.get("start") or "") or today - timedelta(days=30)
    end = parse_date(request.GET.get("end") or "") or today
    if end < start:
        start, end = end, start
    begin = timezone.make_aware(datetime.combine(start, time.min), zone)
    finish = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone)
    return begin, finish, start.isoformat(), end.isoformat()


@role_required(*MANAGERS)
def results(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    start, end, start_text, end_text = _period(request, tenant.zone)
    group_by = request.GET.get("group_by", "technician")
    if group_by not in selectors.GROUPS:
        group_by = "technician"
    rows = selectors.survey_results(tenant_id=tenant.pk, start=start, end=end, group_by=group_by)
    rates = selectors.survey_response_rates(tenant_id=tenant.pk, start=start, end=end)
    chart = {"labels": [row.label for row in rows], "csat": [row.csat_average for row in rows]}
    return render(
        request,
        "surveys/results.html",
        {
            "rows": rows,
            "rates": rates,
            "group_by": group_by,
            "groups": [
                ("technician", _("Technician")),
                ("operator", _("Operator")),
                ("service_point", _("Service point")),
                ("region", _("Region")),
                ("channel", _("Channel")),
            ],
            "start": start_text,
            "end": end_text,
            "chart": chart,
            "open_cases": selectors.follow_ups_for_user(request.user, status="open").count(),
        },
    )


@role_required(*MANAGERS)
def follow_ups(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    cases = selectors.follow_ups_for_user(request.user, status=status if status != "all" else None)
    return render(
        request,
        "surveys/follow_ups.html",
        {"cases": cases[:200], "status": status, "now": timezone.now()},
    )


@require_POST
@role_required(*MANAGERS)
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _found(selectors.get_follow_up_for_user, request.user, pk)
    try:
        services.follow_up_close(
            case=case,
            actor=request.user,
            note=request.POST.get("note", ""),
            reopen=request.POST.get("reopen") == "1",
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The case is closed."))
    return redirect("survey-follow-ups")


def _found(lookup, *args):
    try:
        return lookup(*args)
    except NotFound:
        raise Http404 from None


# ---- Phone survey (operators) ----------------------------------------------------------------


@role_required(*CALLERS)
def calls(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    if request.method == "POST" and request.user.role in MANAGERS:
        today = timezone.localdate()
        try:
            collection.campaign_create(
                tenant=tenant,
                name=request.POST.get("name", "").strip(),
                period_start=parse_date(request.POST.get("start") or "")
                or today - timedelta(days=7),
                period_end=parse_date(request.POST.get("end") or "") or today,
                sample_percent=int(request.POST.get("sample") or 20),
                actor=request.user,
            )
        except (DomainError, ValueError) as error:
            messages.error(request, getattr(error, "message", _("Check the campaign.")))
        else:
            messages.success(request, _("The call list is ready."))
        return redirect("survey-calls")
    return render(
        request, "surveys/calls.html", {"calls": selectors.calls_due_for_user(request.user)}
    )


@role_required(*CALLERS)
def call_script(request: HttpRequest, pk: int) -> HttpResponse:
    call = _found(selectors.get_call_for_user, request.user, pk)
    language = translation.get_language() or request.user.tenant.language
    questions = selectors.questions_of(call.campaign.template)
    errors, status = {}, 200
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        call_back_at = parse_datetime(request.POST.get("call_back_at") or "")
        if call_back_at is not None and timezone.is_naive(call_back_at):
            call_back_at = timezone.make_aware(call_back_at, request.user.tenant.zone)
        try:
            collection.call_record(
                call=call,
                operator=request.user,
                outcome=outcome,
                raw=request.POST,
                call_back_at=call_back_at,
            )
        except services.AnswersInvalid as invalid:
            errors, status = invalid.errors, 400
        except DomainError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(request, _("Saved."))
            return redirect("survey-calls")
    visit = call.visit
    return render(
        request,
        "surveys/call_script.html",
        {
            "call": call,
            "customer": visit.request.customer,
            "visit": visit,
            "questions": _questions_view(questions, language, request.POST),
            "errors": errors,
            "outcomes": CallAttempt.Outcome.choices,
        },
        status=status,
    )


# ---- Mystery shopping (managers) -------------------------------------------------------------


@role_required(*MANAGERS)
def audits(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    forms = AuditForm.objects.for_tenant(tenant).filter(active=True)
    recent = (
        Audit.objects.for_tenant(tenant)
        .select_related("form", "service_point", "operator", "auditor")
        .order_by("-created_at")[:50]
    )
    return render(request, "surveys/audits.html", {"forms": forms, "audits": recent})


@role_required(*MANAGERS)
def audit_fill(request: HttpRequest, pk: int) -> HttpResponse:
    form = _found(selectors.get_audit_form_for_user, request.user, pk)
    tenant = request.user.tenant
    language = translation.get_language() or tenant.language
    points = ServicePoint.objects.for_tenant(tenant)
    operators = User.objects.filter(tenant=tenant, role=Role.OPERATOR).order_by("username")
    status = 200
    if request.method == "POST":
        passed = {int(v) for v in request.POST.getlist("passed") if v.isdigit()}
        point_id, operator_id = (
            request.POST.get("service_point", ""),
            request.POST.get("operator", ""),
        )
        try:
            audit = collection.audit_record(
                form=form,
                auditor=request.user,
                passed=passed,
                service_point=points.filter(pk=point_id).first() if point_id.isdigit() else None,
                operator=operators.filter(pk=operator_id).first()
                if operator_id.isdigit()
                else None,
                channel=request.POST.get("channel", "").strip(),
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(request, _("Audit saved: %(score)s %%.") % {"score": audit.score})
            return redirect("survey-audits")
    items = [
        {"pk": item.pk, "text": item.text(language), "weight": item.weight}
        for item in form.items.all()
    ]
    return render(
        request,
        "surveys/audit_fill.html",
        {"form": form, "items": items, "points": points, "operators": operators},
        status=status,
    )


# ---- Import (managers) -----------------------------------------------------------------------


@role_required(*MANAGERS)
def ratings_import(request: HttpRequest) -> HttpResponse:
    report, status = None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None or upload.size > 2_000_000:
                raise ValueError(_("Choose a CSV file of at most 2 MB."))
            text = upload.read().decode("utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(text)))
        except (UnicodeDecodeError, csv.Error):
            messages.error(request, _("The file is not a UTF-8 CSV file."))
            status = 400
        except ValueError as error:
            messages.error(request, str(error))
            status = 400
        else:
            report = collection.ratings_import(tenant=request.user.tenant, rows=rows)
    return render(
        request,
        "surveys/import.html",
        {"report": report, "columns": collection.IMPORT_COLUMNS},
        status=status,
    )
