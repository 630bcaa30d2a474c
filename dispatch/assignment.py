"""Emergency assignment: the qualified technician on shift who can be on site soonest.

ETA = when the technician is free (end of the job in hand) + travel from there. Every decision
is stored with the ranked candidates and the reasons the others were excluded, so a dispatcher
can ask "why not this technician?".
"""

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.geo import haversine_km
from dispatch.models import Decision
from requests_app.models import ServiceRequest
from requests_app.services import request_transition
from requests_app.states import UNASSIGNED, Status
from technicians.models import Absence, Shift, Technician, Visit
from technicians.services import visit_create

POLICY = "nearest_eta_v1"
EXCLUDED_SAMPLE = 20


@dataclass
class Candidate:
    technician_id: int
    name: str
    eta: datetime
    travel_minutes: float
    distance_km: float
    free_at: datetime

    def as_json(self) -> dict:
        data = asdict(self)
        data["eta"] = self.eta.isoformat()
        data["free_at"] = self.free_at.isoformat()
        data["travel_minutes"] = round(self.travel_minutes, 1)
        data["distance_km"] = round(self.distance_km, 2)
        return data


def _technicians_with_eligibility(request: ServiceRequest, now: datetime):
    skill_ids = list(request.required_skills.values_list("pk", flat=True))
    return (
        Technician.objects.for_tenant(request.tenant_id)
        .filter(active=True)
        .select_related("user")
        .annotate(
            matching_skills=Count("skills", filter=Q(skills__in=skill_ids), distinct=True),
            on_shift=Exists(
                Shift.objects.filter(technician=OuterRef("pk"), start__lte=now, end__gt=now)
            ),
            absent=Exists(
                Absence.objects.filter(technician=OuterRef("pk"), start__lte=now, end__gt=now)
            ),
        )
    ), len(skill_ids)


def rank_candidates(
    request: ServiceRequest, *, now: datetime
) -> tuple[list[Candidate], list[dict]]:
    technicians, skills_needed = _technicians_with_eligibility(request, now)
    excluded: list[dict] = []
    eligible: list[Technician] = []
    for technician in technicians:
        if technician.matching_skills < skills_needed:
            reason = "skills"
        elif not technician.on_shift:
            reason = "off_shift"
        elif technician.absent:
            reason = "absent"
        else:
            eligible.append(technician)
            continue
        excluded.append({"technician_id": technician.pk, "name": str(technician), "reason": reason})

    shift_ends = dict(
        Shift.objects.filter(
            technician__in=eligible, start__lte=now, end__gt=now
        ).values_list("technician_id", "end")
    )
    visits_by_technician: dict[int, list[Visit]] = defaultdict(list)
    for visit in (
        Visit.objects.filter(technician__in=eligible, status__in=Visit.ACTIVE, planned_end__gt=now)
        .select_related("request")
        .order_by("planned_start")
    ):
        visits_by_technician[visit.technician_id].append(visit)

    tenant = request.tenant
    duration = timedelta(minutes=request.estimated_minutes)
    candidates: list[Candidate] = []
    for technician in eligible:
        free_at, position, upcoming = now, technician.position, []
        for visit in visits_by_technician[technician.pk]:
            if visit.planned_start <= now or visit.status in (
                Visit.Status.EN_ROUTE, Visit.Status.ON_SITE
            ):
                free_at = max(free_at, visit.planned_end)
                position = (visit.request.lat, visit.request.lon)
            else:
                upcoming.append(visit)
        distance = haversine_km(*position, request.lat, request.lon)
        travel = distance * tenant.travel_detour_factor / tenant.travel_speed_kmh * 60
        eta = free_at + timedelta(minutes=travel)
        end = eta + duration
        clash = next((v for v in upcoming if v.planned_start < end and v.planned_end > eta), None)
        if clash is not None:
            reason = "busy"
        elif end > shift_ends[technician.pk]:
            reason = "shift_ends"
        else:
            candidates.append(
                Candidate(technician.pk, str(technician), eta, travel, distance, free_at)
            )
            continue
        excluded.append({"technician_id": technician.pk, "name": str(technician), "reason": reason})

    candidates.sort(key=lambda c: (c.eta, c.distance_km))
    return candidates, excluded


def _claim(request_id: int, *, skip_locked: bool) -> bool:
    """Count the attempt in its own transaction, so a crash mid-assignment is still counted."""
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(skip_locked=skip_locked)
            .filter(pk=request_id, status__in=UNASSIGNED)
            .first()
        )
        if request is None:
            return False
        request.assignment_attempts += 1
        request.save(update_fields=["assignment_attempts"])
        return True


def request_assign(*, request_id: int, skip_locked: bool = False) -> str:
    """Assign an emergency; idempotent: returns early when the request is no longer waiting."""
    if not _claim(request_id, skip_locked=skip_locked):
        return "skipped"
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("tenant", "customer")
            .filter(pk=request_id, status__in=UNASSIGNED)
            .first()
        )
        if request is None:
            return "skipped"
        now = timezone.now()
        candidates, excluded = rank_candidates(request, now=now)
        for candidate in candidates:
            try:
                # A savepoint per try: a technician booked by a racing worker a moment ago makes
                # the exclusion constraint fail; the next candidate is tried.
                with transaction.atomic():
                    visit_create(
                        request=request,
                        technician=Technician.objects.get(pk=candidate.technician_id),
                        start=candidate.eta,
                        end=candidate.eta + timedelta(minutes=request.estimated_minutes),
                        travel_minutes=candidate.travel_minutes,
                        reason=_("Automatic: on site soonest (ETA %(eta)s min)")
                        % {"eta": round((candidate.eta - now).total_seconds() / 60)},
                    )
            except IntegrityError:
                excluded.append({**candidate.as_json(), "reason": "taken_concurrently"})
                continue
            _record(request, candidate.technician_id, "assigned", candidates, excluded)
            return "assigned"
        _record(request, None, "escalated", candidates, excluded)
        if request.status != Status.ESCALATED:
            request_transition(
                request=request, to=Status.ESCALATED,
                reason=_("No qualified technician on shift can take it now."),
            )
        return "escalated"


def request_escalate_stuck(*, request_id: int) -> bool:
    """Give up automatic assignment after too many failed attempts: dispatchers take over."""
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=request_id, status__in=(Status.NEW, Status.RESCHEDULED))
            .first()
        )
        if request is None:
            return False
        request_transition(
            request=request, to=Status.ESCALATED,
            reason=_("Automatic assignment failed %(n)s times.")
            % {"n": request.assignment_attempts},
        )
        return True


def overdue_request_ids(*, now: datetime, limit: int = 200) -> tuple[list[int], list[int]]:
    """Emergencies waiting longer than they should: (to retry, to escalate)."""
    cutoff = now - timedelta(seconds=settings.ASSIGN_OVERDUE_SECONDS)
    waiting = ServiceRequest.objects.filter(
        kind=ServiceRequest.Kind.EMERGENCY, status__in=UNASSIGNED, created_at__lt=cutoff
    ).order_by("priority", "created_at").values_list("pk", "assignment_attempts", "status")[:limit]
    retry, escalate = [], []
    for pk, attempts, status in waiting:
        if attempts >= settings.ASSIGN_MAX_ATTEMPTS and status != Status.ESCALATED:
            escalate.append(pk)
        else:
            retry.append(pk)
    return retry, escalate


def _record(request, technician_id, outcome, candidates, excluded) -> None:
    Decision.objects.create(
        tenant_id=request.tenant_id,
        request=request,
        technician_id=technician_id,
        policy=POLICY,
        outcome=outcome,
        candidates=[c.as_json() for c in candidates[:10]],
        excluded=excluded[:EXCLUDED_SAMPLE] + (
            [{"more": len(excluded) - EXCLUDED_SAMPLE}] if len(excluded) > EXCLUDED_SAMPLE else []
        ),
    )
