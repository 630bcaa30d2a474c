"""The demo's KPI history (`manage.py seed_demo`): a few months of finished work before today —
planned windows kept or missed (some with the cause the plan recorded), emergencies, failed
first visits, shifts — rolled up as the nightly job would, so the report page shows trends.

Teams keep their promises differently (one team is often late), so the demo can answer
"which team keeps its promises, why do the others miss, and who fixes it the first time".
Rows are written in bulk with the times they would have had; status changes go in with one
INSERT (the audit trail takes its times from the moment of writing, which is now)."""

import random
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import Tenant
from reports.models import PromiseRisk
from reports.services import daily_kpis_refresh_days
from requests_app.models import Customer, ServiceRequest
from technicians.models import Shift, Team, Technician, Visit

HISTORY_DAYS = 90
WINDOWS = [(9, 11), (11, 13), (13, 15), (15, 17), (17, 19)]
# The share of a team's windows missed: the demo's answer to "which team keeps its promises".
LATE_BY_TEAM = {"North": 0.04, "South": 0.16, "East": 0.09, "West": 0.07}
# The share of requests from a customer already served in the history: a telecom's repeat rate,
# not the demo's few live customers over and over.
REPEAT_SHARE = 0.07
CATEGORIES = [
    ServiceRequest.Category.INSTALLATION,
    ServiceRequest.Category.RELOCATION,
    ServiceRequest.Category.REPAIR,
]


def seed_teams(tenant: Tenant, technicians: list[Technician]) -> dict[str, Team]:
    """One team per territory ("North team", …)."""
    teams = {}
    for technician in technicians:
        area = technician.territory or "North"
        if area not in teams:
            teams[area] = Team.objects.create(tenant=tenant, name=f"{area} team")
        technician.team = teams[area]
    Technician.objects.bulk_update(technicians, ["team"])
    return teams


def seed_kpi_history(
    rng: random.Random,
    tenant: Tenant,
    technicians: list[Technician],
    customers: list[Customer],
    *,
    days: int = HISTORY_DAYS,
    per_day: int = 8,
) -> int:
    """`days` days of finished work before today, rolled up; returns the requests made."""
    today = timezone.localdate(timezone=tenant.zone)
    first = today - timedelta(days=days)
    crew = [t for t in technicians if t.territory in LATE_BY_TEAM] or technicians
    customers = _History(rng, tenant, customers)
    shifts, made = [], []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() == 6:
            continue  # Sundays off: the trend has a weekly rhythm
        on_duty = rng.sample(crew, min(len(crew), per_day))
        for technician in on_duty:
            start = _at(day, 8, tenant)
            shifts.append(
                Shift(
                    tenant=tenant,
                    technician=technician,
                    date=day,
                    start=start,
                    end=start + timedelta(hours=12),
                    lunch_minutes=60,
                )
            )
            slots = rng.sample(WINDOWS, 2)
            for start_h, end_h in slots:
                made.append(_one_request(rng, tenant, technician, customers, day, start_h, end_h))
    Shift.objects.bulk_create(shifts, ignore_conflicts=True)
    _write_history(tenant, made)
    daily_kpis_refresh_days(tenant=tenant, first=first, last=today - timedelta(days=1))
    return len(made)


class _History:
    """The customers of the history: mostly new ones (made in bulk as they are needed, near
    the live customers' addresses), now and then one served before."""

    def __init__(self, rng: random.Random, tenant: Tenant, live: list[Customer]) -> None:
        self.rng, self.tenant, self.live, self.served = rng, tenant, live, []

    def pick(self) -> Customer:
        if self.served and self.rng.random() < REPEAT_SHARE:
            return self.rng.choice(self.served)
        near = self.rng.choice(self.live)
        n = len(self.served)
        customer = Customer.objects.create(
            tenant=self.tenant,
            name=near.name,
            phone=f"+7702{n:07d}",
            email=f"history{n}@example.kz",
            address=near.address,
            lat=near.lat,
            lon=near.lon,
            account_number=f"H{self.tenant.pk}{n:06d}",
        )
        self.served.append(customer)
        return customer


def _at(day: date, hour: int, tenant: Tenant, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tenant.zone)


def _one_request(rng, tenant, technician, customers, day, start_h, end_h) -> dict:
    """One finished request as plain values: its window, its visits and its status changes."""
    window = (_at(day, start_h, tenant), _at(day, end_h, tenant))
    late = rng.random() < LATE_BY_TEAM.get(technician.territory, 0.08)
    emergency = rng.random() < 0.1
    arrived = window[1] + timedelta(minutes=rng.randint(10, 70)) if late else window[0]
    if not late:
        arrived += timedelta(minutes=rng.randint(0, 80))
    created = window[0] - timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 8))
    if emergency:
        created = window[0] - timedelta(minutes=rng.randint(20, 50))
        # On site within the response SLA mostly (the emergency rule's job), late now and then.
        arrived = created + timedelta(minutes=rng.randint(70, 120) if late else rng.randint(25, 58))
    failed = not emergency and rng.random() < 0.12  # the first visit could not finish the job
    # Planned inside the technician's slot (two slots of a day never overlap), whatever the
    # arrival: (planned start, arrived, finished, status).
    visits = []
    planned = window[0]
    if failed:
        visits.append(
            (planned, window[0], window[0] + timedelta(minutes=25), Visit.Status.NOT_COMPLETED)
        )
        arrived = max(arrived, window[0] + timedelta(minutes=30))
        planned = window[0] + timedelta(minutes=60)
    finished = arrived + timedelta(minutes=rng.randint(35, 75))
    visits.append((planned, arrived, finished, Visit.Status.COMPLETED))
    return {
        "request": ServiceRequest(
            tenant=tenant,
            kind=ServiceRequest.Kind.EMERGENCY if emergency else ServiceRequest.Kind.PLANNED,
            category=ServiceRequest.Category.OUTAGE if emergency else rng.choice(CATEGORIES),
            channel=rng.choice(list(ServiceRequest.Channel.values)),
            customer=(customer := customers.pick()),
            address=customer.address,
            lat=customer.lat,
            lon=customer.lon,
            window_start=None if emergency else window[0],
            window_end=None if emergency else window[1],
            response_due=created + timedelta(minutes=tenant.response_sla_minutes)
            if emergency
            else None,
            status=ServiceRequest.Status.COMPLETED,
            description="",
        ),
        "created": created,
        "technician": technician,
        "visits": visits,
        "reason": rng.choice(
            [Visit.Reason.CUSTOMER_ABSENT, Visit.Reason.NO_ACCESS, Visit.Reason.PARTS_MISSING]
        ),
        "cause": rng.choice(
            [PromiseRisk.Cause.EMERGENCY_BREAK_IN, PromiseRisk.Cause.PREVIOUS_JOB_OVERRAN, ""]
        )
        if late and not emergency
        else "",
        "assigned": created + timedelta(minutes=rng.randint(2, 40)),
        "completed": finished,
    }


def _write_history(tenant: Tenant, made: list[dict]) -> None:
    for item in made:
        item["request"].save()  # numbered in the tenant's sequence, like any request
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE requests_app_servicerequest AS r SET created_at = v.created, "
            "updated_at = v.created FROM unnest(%s::bigint[], %s::timestamptz[]) "
            "AS v(id, created) WHERE r.id = v.id",
            [[i["request"].pk for i in made], [i["created"] for i in made]],
        )
    visits, risks, changes = [], [], []
    for item in made:
        request, technician = item["request"], item["technician"]
        for planned, arrived, finished, status in item["visits"]:
            visits.append(
                Visit(
                    tenant=tenant,
                    request=request,
                    technician=technician,
                    planned_start=planned,
                    planned_end=planned + timedelta(minutes=55),
                    travel_minutes=20,
                    status=status,
                    reason=item["reason"] if status == Visit.Status.NOT_COMPLETED else "",
                    accepted_at=arrived - timedelta(minutes=50),
                    en_route_at=arrived - timedelta(minutes=25),
                    arrived_at=arrived,
                    finished_at=finished,
                )
            )
        if item["cause"]:
            risks.append(
                PromiseRisk(
                    tenant=tenant,
                    request=request,
                    technician=technician,
                    cause=item["cause"],
                    window_end=request.window_end,
                )
            )
        changes += [
            (request.pk, "", "new", item["created"]),
            (request.pk, "new", "assigned", item["assigned"]),
            (request.pk, "on_site", "completed", item["completed"]),
        ]
    Visit.objects.bulk_create(visits)
    PromiseRisk.objects.bulk_create(risks)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO requests_app_statuschange "
            "(tenant_id, request_id, from_status, to_status, reason, created_at) "
            "SELECT %s, r, f, t, '', c FROM unnest(%s::bigint[], %s::text[], %s::text[], "
            "%s::timestamptz[]) AS v(r, f, t, c)",
            [tenant.pk, *map(list, zip(*changes, strict=True))],
        )
