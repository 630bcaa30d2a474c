"""The dispatcher board's API: the queue, the timeline, a request's drawer, the rule check,
escalation, and the versions that keep two dispatchers from overwriting each other."""

from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Event
from notifications.models import Notification
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Absence, Shift, Visit
from tests.factories import CustomerFactory, RequestFactory, SkillFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

QUEUE, TIMELINE = "/api/v1/board/queue/", "/api/v1/board/timeline/"


def drawer(request_id: int) -> str:
    return f"/api/v1/board/requests/{request_id}/"


def hours(count: float) -> datetime:
    return timezone.now() + timedelta(hours=count)


def visit_for(request, technician, *, start, minutes=60, status="scheduled") -> Visit:
    return Visit.objects.create(
        tenant=request.tenant,
        request=request,
        technician=technician,
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        status=status,
    )


def tomorrow_at(tenant, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate(timezone=tenant.zone) + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=tenant.zone)


def last_event(tenant, request) -> dict:
    return Event.objects.filter(tenant=tenant, payload__id=request.pk).order_by("seq").last()


# The queue -------------------------------------------------------------------------------


def test_the_queue_puts_requests_needing_a_person_first_each_group_by_deadline(
    api, dispatcher, technician
):
    tenant = dispatcher.tenant
    calm_late = RequestFactory(
        tenant=tenant, status="assigned", window_start=hours(6), window_end=hours(8)
    )
    visit_for(calm_late, technician, start=hours(6))
    calm_soon = RequestFactory(
        tenant=tenant, status="assigned", window_start=hours(3), window_end=hours(5)
    )
    visit_for(calm_soon, technician, start=hours(3))
    unassigned = RequestFactory(tenant=tenant)  # no deadline: last of its group
    escalated = RequestFactory(
        tenant=tenant, status="escalated", kind="emergency", response_due=hours(1)
    )
    late = RequestFactory(
        tenant=tenant, status="assigned", kind="emergency", response_due=hours(-1)
    )
    visit_for(late, technician, start=hours(-0.5))
    held = RequestFactory(tenant=tenant, held=True, kind="emergency", response_due=hours(2))
    RequestFactory(tenant=tenant, status="completed")  # closed: not in the queue

    body = api(dispatcher).get(QUEUE).json()

    order = [row["id"] for row in body["results"]]
    assert order == [late.pk, escalated.pk, held.pk, unassigned.pk, calm_soon.pk, calm_late.pk]
    urgencies = {row["id"]: row["urgency"] for row in body["results"]}
    assert urgencies == {
        late.pk: "late",
        escalated.pk: "escalated",
        held.pk: "held",
        unassigned.pk: "unassigned",
        calm_soon.pk: None,
        calm_late.pk: None,
    }
    assert body["count"] == 6
    assert body["counts"] == {
        "open": 6,
        "human": 4,
        "escalated": 1,
        "unassigned": 2,  # the escalated one has no visit either
        "at_risk": 1,  # the late emergency: its visit starts after its deadline too
        "late": 1,
        "held": 1,
    }
    assert body["next_offset"] is None and body["limit"] == 100


def test_a_queue_row_is_the_live_payload_with_what_it_needs(api, dispatcher, fiber):
    request = RequestFactory(
        tenant=dispatcher.tenant, window_start=hours(2), window_end=hours(4), window_at_risk=True
    )
    request.required_skills.set([fiber])

    [row] = api(dispatcher).get(QUEUE).json()["results"]

    assert row["number"] == request.number and row["version"] == 1
    assert row["urgency"] == "at_risk" and row["held"] is False
    assert row["required_skills"] == ["fiber"]
    assert datetime.fromisoformat(row["deadline"]) == request.window_start
    assert row["visit"] is None and row["customer"] == request.customer.name


def test_an_emergency_planned_after_its_deadline_is_at_risk(api, dispatcher, technician):
    request = RequestFactory(
        tenant=dispatcher.tenant, kind="emergency", status="assigned", response_due=hours(1)
    )
    visit_for(request, technician, start=hours(2))

    [row] = api(dispatcher).get(QUEUE).json()["results"]

    assert row["urgency"] == "at_risk"


def test_the_queue_filters_by_need_and_keeps_the_counts_of_every_bucket(api, dispatcher):
    RequestFactory(tenant=dispatcher.tenant, status="escalated")
    RequestFactory(tenant=dispatcher.tenant, held=True)

    body = api(dispatcher).get(QUEUE, {"needs": "held"}).json()

    assert body["count"] == 1 and len(body["results"]) == 1
    assert body["counts"]["open"] == 2 and body["counts"]["escalated"] == 1


def test_the_queue_filters_by_skill_technician_territory_and_search(
    api, dispatcher, technician, fiber
):
    tenant = dispatcher.tenant
    technician.territory = "North"
    technician.save()
    with_fiber = RequestFactory(tenant=tenant)
    with_fiber.required_skills.set([fiber])
    assigned = RequestFactory(tenant=tenant, status="assigned")
    visit_for(assigned, technician, start=hours(2))
    called = RequestFactory(
        tenant=tenant, customer=CustomerFactory(tenant=tenant, phone="+77015550000")
    )
    client = api(dispatcher)

    def ids(**query):
        return [row["id"] for row in client.get(QUEUE, query).json()["results"]]

    assert ids(skill="fiber") == [with_fiber.pk]
    assert ids(technician=technician.pk) == [assigned.pk]
    assert ids(territory="North") == [assigned.pk]
    assert ids(search="5550000") == [called.pk]
    assert ids(search=called.number) == [called.pk]
    # A bare number finds the request by its number (and whatever address or phone holds it).
    assert called.pk in ids(search=str(called.number_in_tenant))


def test_the_queue_pages_on_the_server(api, dispatcher):
    for _ in range(5):
        RequestFactory(tenant=dispatcher.tenant)
    client = api(dispatcher)

    first = client.get(QUEUE, {"limit": 2}).json()
    last = client.get(QUEUE, {"limit": 2, "offset": 4}).json()

    assert (first["count"], len(first["results"]), first["next_offset"]) == (5, 2, 2)
    assert (len(last["results"]), last["next_offset"]) == (1, None)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"needs": "bored"},
        {"kind": "urgent"},
        {"technician": "x"},
        {"status": "gone"},
        {"skill": "not a code"},
    ],
)
def test_a_bad_queue_query_is_a_400_naming_the_field(api, dispatcher, query):
    response = api(dispatcher).get(QUEUE, query)

    assert response.status_code == 400
    assert set(query) <= set(response.json())


def _statements(client, url: str, query=None) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query or {})
    assert response.status_code == 200, response.content
    return [q["sql"][:160] for q in queries]


def _busy_tenant(tenant, technician, count: int, fiber, *, first: int = 0) -> None:
    for number in range(first, first + count):
        request = RequestFactory(
            tenant=tenant, status="assigned" if number % 2 else "new", held=number % 5 == 0
        )
        request.required_skills.set([fiber])
        if number % 2:
            visit_for(request, technician, start=hours(number), minutes=30)


# The user's tenant scope (three: cleared, set, back at rest); the counts, the page, its skills,
# its live visits.
QUEUE_STATEMENTS = 7


def test_the_queue_reads_the_same_statements_for_few_or_many_requests(
    api, dispatcher, technician, fiber
):
    client = api(dispatcher)
    _busy_tenant(dispatcher.tenant, technician, 5, fiber)
    few = _statements(client, QUEUE)
    _busy_tenant(dispatcher.tenant, technician, 35, fiber, first=5)

    many = _statements(client, QUEUE)

    assert len(few) == len(many) == QUEUE_STATEMENTS, "\n".join(many)


# Tenants and roles -----------------------------------------------------------------------


def test_another_tenants_dispatcher_sees_none_of_the_board(
    api, dispatcher, other_dispatcher, technician
):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned")
    visit_for(request, technician, start=hours(1))
    client = api(other_dispatcher)

    queue = client.get(QUEUE).json()
    timeline = client.get(TIMELINE).json()

    assert queue["results"] == [] and queue["count"] == 0
    assert timeline["technicians"] == [] and timeline["visits"] == []
    assert client.get(drawer(request.pk)).status_code == 404


@pytest.mark.parametrize("url", [QUEUE, TIMELINE, "drawer"])
def test_a_technician_may_not_read_the_board(api, technician, url):
    request = RequestFactory(tenant=technician.tenant)
    url = drawer(request.pk) if url == "drawer" else url

    assert api(technician.user).get(url).status_code == 403


# The timeline ----------------------------------------------------------------------------


def test_the_timeline_shows_the_active_crew_and_their_visits_today_and_tomorrow(
    api, dispatcher, technician, fiber
):
    tenant = dispatcher.tenant
    technician.skills.set([fiber])
    TechnicianFactory(tenant=tenant, active=False)
    late = RequestFactory(tenant=tenant, status="assigned")
    late_visit = visit_for(late, technician, start=hours(-0.5))
    cancelled = RequestFactory(tenant=tenant)
    visit_for(cancelled, technician, start=hours(3), status="cancelled")
    Absence.objects.create(
        tenant=tenant,
        technician=technician,
        start=tomorrow_at(tenant, 10),
        end=tomorrow_at(tenant, 12),
        reason="Doctor",
    )

    body = api(dispatcher).get(TIMELINE).json()

    [crew] = body["technicians"]
    assert (crew["id"], crew["skills"], crew["position"]) == (technician.pk, ["fiber"], None)
    assert len(crew["shifts"]) == 1 and crew["absences"][0]["reason"] == "Doctor"
    [visit] = body["visits"]
    assert (visit["id"], visit["request_id"], visit["late"]) == (late_visit.pk, late.pk, True)
    assert visit["request_number"] == late.number and visit["version"] == late.version
    start = datetime.fromisoformat(body["start"]).astimezone(tenant.zone)
    assert start.time() == time.min and start.date() == timezone.localdate(timezone=tenant.zone)
    assert datetime.fromisoformat(body["end"]) - start == timedelta(days=2)


def test_the_timeline_shows_each_lunch_where_the_plan_placed_it(api, dispatcher, technician):
    shift = Shift.objects.get(technician=technician)
    lunch = timezone.localtime(shift.start).replace(hour=12, minute=30, second=0, microsecond=0)
    Shift.objects.filter(pk=shift.pk).update(
        lunch_minutes=30, break_start=lunch, break_end=lunch + timedelta(minutes=30)
    )

    [crew] = api(dispatcher).get(TIMELINE).json()["technicians"]

    [placed] = crew["shifts"]
    assert datetime.fromisoformat(placed["break_start"]) == lunch
    assert datetime.fromisoformat(placed["break_end"]) == lunch + timedelta(minutes=30)


def test_the_timeline_filters_the_crew(api, dispatcher, technician, other_technician, fiber):
    other_technician.skills.set([fiber])

    body = api(dispatcher).get(TIMELINE, {"skill": "fiber"}).json()

    assert [t["id"] for t in body["technicians"]] == [other_technician.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2030-01-01T00:00:00Z", "end": "2030-01-05T00:00:00Z"},
        {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        {"start": "0150-09-19T12:41:51Z", "end": "0150-09-19T15:41:51Z"},
        {"start": "yesterday"},
        {"technician": 0},
    ],
)
def test_a_bad_timeline_range_is_a_400(api, dispatcher, query):
    response = api(dispatcher).get(TIMELINE, query)

    assert response.status_code == 400, response.content


# Scope (three); the crew, their skills, shifts and absences; the visits with their requests.
TIMELINE_STATEMENTS = 10


def test_the_timeline_reads_the_same_statements_for_a_small_or_large_crew(api, dispatcher, fiber):
    client = api(dispatcher)

    def crew(count):
        for _ in range(count):
            technician = TechnicianFactory(tenant=dispatcher.tenant, skills=[fiber])
            _busy_tenant(dispatcher.tenant, technician, 4, fiber)

    crew(1)
    few = _statements(client, TIMELINE)
    crew(8)

    many = _statements(client, TIMELINE)

    assert len(few) == len(many) == TIMELINE_STATEMENTS, "\n".join(many)


# The drawer ------------------------------------------------------------------------------


def test_the_drawer_shows_the_request_its_customer_history_and_visits(
    api, dispatcher, technician, other_technician
):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned", description="No signal")
    StatusChange.objects.create(
        tenant=dispatcher.tenant, request=request, from_status="", to_status="new"
    )
    StatusChange.objects.create(
        tenant=dispatcher.tenant,
        request=request,
        from_status="new",
        to_status="assigned",
        actor=dispatcher,
        reason="By hand",
    )
    old = visit_for(request, technician, start=hours(-3), status="cancelled")
    new = visit_for(request, other_technician, start=hours(2))

    body = api(dispatcher).get(drawer(request.pk)).json()

    assert body["request"]["id"] == request.pk and body["request"]["visit"]["id"] == new.pk
    assert body["customer"]["name"] == request.customer.name
    assert body["description"] == "No signal"
    assert [h["to_status"] for h in body["history"]] == ["new", "assigned"]
    assert body["history"][1]["actor"] == dispatcher.get_full_name()
    assert [v["id"] for v in body["visits"]] == [new.pk, old.pk]
    assert body["decisions"] == []


# Scope (three); the request, its skills, its live visit; its urgency and deadline; history,
# visits, decisions.
DRAWER_STATEMENTS = 10


def test_the_drawer_reads_the_same_statements_for_a_short_or_long_history(
    api, dispatcher, technician
):
    client = api(dispatcher)
    request = RequestFactory(tenant=dispatcher.tenant)
    few = _statements(client, drawer(request.pk))
    for hour in range(8):
        visit_for(request, technician, start=hours(hour - 10), status="cancelled")
        StatusChange.objects.create(
            tenant=dispatcher.tenant, request=request, to_status="new", actor=dispatcher
        )

    many = _statements(client, drawer(request.pk))

    assert len(few) == len(many) == DRAWER_STATEMENTS, "\n".join(many)


# The rule check --------------------------------------------------------------------------


def check(client, request, technician, start: datetime):
    return client.post(
        f"/api/v1/requests/{request.pk}/assign/check/",
        {"technician": technician.pk, "start": start.isoformat()},
        format="json",
    )


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [problem["code"] for problem in response.json()["problems"]]


def test_a_fitting_assignment_has_no_problems(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant)

    assert codes(check(api(dispatcher), request, technician, hours(1))) == []


def test_the_check_names_the_technician_and_the_missing_skill(api, dispatcher, technician, fiber):
    technician.user.first_name, technician.user.last_name = "Aigerim", "Sarsen"
    technician.user.save()
    request = RequestFactory(tenant=dispatcher.tenant)
    request.required_skills.set([fiber])

    response = check(api(dispatcher), request, technician, hours(1))

    assert response.json()["problems"] == [
        {"code": "skill", "message": "Aigerim Sarsen lacks the skill: Fibre"}
    ]


def test_the_check_finds_a_broken_window_shift_and_overtime(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant, window_start=hours(1), window_end=hours(3))
    client = api(dispatcher)

    assert codes(check(client, request, technician, hours(4))) == ["window"]
    assert codes(check(client, request, technician, hours(20))) == ["window", "shift"]
    request.window_start, request.window_end = hours(6), hours(9)
    request.save()
    assert codes(check(client, request, technician, hours(7.5))) == ["overtime"]


def test_the_check_finds_a_missed_response_deadline(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant, kind="emergency", response_due=hours(1))

    assert codes(check(api(dispatcher), request, technician, hours(2))) == ["sla"]


def test_the_check_finds_an_absence_and_another_visit(api, dispatcher, technician):
    Absence.objects.create(
        tenant=dispatcher.tenant, technician=technician, start=hours(1), end=hours(2)
    )
    other = RequestFactory(tenant=dispatcher.tenant, status="assigned")
    visit_for(other, technician, start=hours(3))
    request = RequestFactory(tenant=dispatcher.tenant)
    own = visit_for(request, technician, start=hours(4.5), minutes=30)  # its own: no clash
    client = api(dispatcher)

    assert codes(check(client, request, technician, hours(1.5))) == ["absence"]
    assert codes(check(client, request, technician, hours(3.5))) == ["overlap"]
    assert codes(check(client, request, technician, own.planned_start)) == []


def test_the_check_finds_no_room_for_lunch(api, dispatcher):
    tenant = dispatcher.tenant
    technician = TechnicianFactory(tenant=tenant, on_shift=False)
    Shift.objects.create(
        tenant=tenant,
        technician=technician,
        date=tomorrow_at(tenant, 9).date(),
        start=tomorrow_at(tenant, 9),
        end=tomorrow_at(tenant, 18),
        lunch_minutes=45,
    )
    for hour in (11, 14):
        other = RequestFactory(tenant=tenant, status="assigned")
        visit_for(other, technician, start=tomorrow_at(tenant, hour), minutes=60)
    request = RequestFactory(tenant=tenant, estimated_minutes=90)
    client = api(dispatcher)

    # 12:00–13:30 leaves 30 minutes (13:30–14:00): no lunch; 12:30–14:00 leaves 12:00–12:30.
    assert codes(check(client, request, technician, tomorrow_at(tenant, 12))) == ["break"]
    request.estimated_minutes = 60
    request.save()
    assert codes(check(client, request, technician, tomorrow_at(tenant, 12))) == []


def test_the_check_is_for_dispatchers(api, manager, technician):
    request = RequestFactory(tenant=manager.tenant)

    assert check(api(manager), request, technician, hours(1)).status_code == 403


# Assigning against the rules -------------------------------------------------------------


def assign(client, request, technician, start: datetime, **extra):
    return client.post(
        f"/api/v1/requests/{request.pk}/assign/",
        {"technician": technician.pk, "start": start.isoformat(), **extra},
        format="json",
    )


def test_an_assignment_breaking_a_rule_is_refused_until_confirmed(
    api, dispatcher, technician, fiber
):
    request = RequestFactory(tenant=dispatcher.tenant, window_start=hours(1), window_end=hours(2))
    request.required_skills.set([fiber])
    client = api(dispatcher)

    refused = assign(client, request, technician, hours(3))

    assert refused.status_code == 409
    assert refused.json()["code"] == "rules"
    assert [p["code"] for p in refused.json()["problems"]] == ["skill", "window"]
    assert not Visit.objects.filter(request=request).exists()

    confirmed = assign(client, request, technician, hours(3), confirm=True)

    assert confirmed.status_code == 200, confirmed.content
    reason = request.status_changes.last().reason
    assert reason == f"Assigned by {dispatcher} (confirmed: skill, window)"


# Versions --------------------------------------------------------------------------------


def test_every_change_raises_the_version_the_answer_and_the_event_carry(
    api, dispatcher, technician
):
    request = RequestFactory(tenant=dispatcher.tenant)

    response = assign(api(dispatcher), request, technician, hours(1), version=1)

    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert request.version == 2 == response.json()["version"]
    assert last_event(dispatcher.tenant, request).payload["version"] == 2


def test_an_action_on_an_older_version_is_refused_with_the_request_as_it_is(
    api, dispatcher, technician
):
    request = RequestFactory(tenant=dispatcher.tenant, version=3)
    client = api(dispatcher)

    response = assign(client, request, technician, hours(1), version=2)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale"
    assert body["detail"] == "Someone changed this request meanwhile: it is shown as it is now."
    assert body["current"]["id"] == request.pk and body["current"]["version"] == 3
    assert not Visit.objects.filter(request=request).exists()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("cancel", {}),
        ("release", {}),
        ("reschedule", {"window_start": "later", "window_end": "later"}),
        ("escalate", {"escalated": True}),
        ("offer-window", {}),
        ("pin", {"pinned": True}),
        ("unassign", {}),
    ],
)
def test_every_board_action_checks_the_version(api, dispatcher, technician, action, body):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned", held=True, version=5)
    visit = visit_for(request, technician, start=hours(1))
    if action == "reschedule":
        body = {"window_start": hours(30).isoformat(), "window_end": hours(32).isoformat()}
    url = (
        f"/api/v1/visits/{visit.pk}/{action}/"
        if action in ("pin", "unassign")
        else f"/api/v1/requests/{request.pk}/{action}/"
    )

    response = api(dispatcher).post(url, {**body, "version": 4}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "stale"
    request.refresh_from_db()
    assert (request.status, request.version) == ("assigned", 5)


# Events carry the state after the change -------------------------------------------------


def test_a_reassignment_event_carries_the_new_technician(
    api, dispatcher, technician, other_technician
):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned")
    visit_for(request, technician, start=hours(1))

    response = assign(api(dispatcher), request, other_technician, hours(2))

    assert response.status_code == 200, response.content
    payload = last_event(dispatcher.tenant, request).payload
    assert payload["visit"]["technician_id"] == other_technician.pk
    assert response.json()["visit"]["technician_id"] == other_technician.pk
    assert request.status_changes.last().reason == f"Reassigned by {dispatcher}"


def test_unassign_pin_and_release_events_carry_the_current_state(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned")
    visit = visit_for(request, technician, start=hours(1))
    client = api(dispatcher)

    client.post(f"/api/v1/visits/{visit.pk}/pin/", {"pinned": True}, format="json")
    pinned = last_event(dispatcher.tenant, request).payload
    client.post(f"/api/v1/visits/{visit.pk}/unassign/", {}, format="json")
    unassigned = last_event(dispatcher.tenant, request).payload
    with mock.patch("core.followups.enqueue_debounced"):
        client.post(f"/api/v1/requests/{request.pk}/release/", {}, format="json")
    released = last_event(dispatcher.tenant, request).payload

    assert pinned["visit"]["id"] == visit.pk and pinned["version"] == 2
    assert (unassigned["visit"], unassigned["status"], unassigned["version"]) == (None, "new", 3)
    assert released["version"] == 4


# Escalation ------------------------------------------------------------------------------


def escalate(client, request, escalated: bool, **extra):
    return client.post(
        f"/api/v1/requests/{request.pk}/escalate/",
        {"escalated": escalated, **extra},
        format="json",
    )


def test_a_dispatcher_escalates_an_unassigned_request_with_a_reason(api, dispatcher):
    request = RequestFactory(tenant=dispatcher.tenant)

    response = escalate(api(dispatcher), request, True, reason="VIP customer")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "escalated"
    change = request.status_changes.last()
    assert (change.from_status, change.to_status, change.actor) == ("new", "escalated", dispatcher)
    assert change.reason == f"Escalated by {dispatcher}: VIP customer"


def test_de_escalating_returns_a_request_to_the_engine(
    api, dispatcher, django_capture_on_commit_callbacks
):
    request = RequestFactory(
        tenant=dispatcher.tenant, kind="emergency", status="escalated", assignment_attempts=5
    )

    with (
        mock.patch("core.followups._send") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = escalate(api(dispatcher), request, False)

    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert (request.status, request.assignment_attempts) == ("new", 0)
    send.assert_called_once_with("dispatch.tasks.assign_request", {"request_id": request.pk})


@pytest.mark.parametrize(("status", "escalated"), [("assigned", True), ("new", False)])
def test_escalation_is_refused_where_it_does_not_apply(api, dispatcher, status, escalated):
    request = RequestFactory(tenant=dispatcher.tenant, status=status)

    response = escalate(api(dispatcher), request, escalated)

    assert response.status_code == 409
    assert ServiceRequest.objects.get(pk=request.pk).status == status


def test_escalation_is_for_dispatchers(api, operator):
    request = RequestFactory(tenant=operator.tenant)

    assert escalate(api(operator), request, True).status_code == 403


def test_skills_of_another_tenant_do_not_filter_the_queue(api, dispatcher, other_tenant):
    SkillFactory(tenant=other_tenant, code="copper")
    RequestFactory(tenant=dispatcher.tenant)

    assert api(dispatcher).get(QUEUE, {"skill": "copper"}).json()["count"] == 0


# Offering the customer a new window -------------------------------------------------------


def offer(client, request, **extra):
    return client.post(f"/api/v1/requests/{request.pk}/offer-window/", extra, format="json")


def test_offering_a_new_window_sends_the_customer_the_link_and_keeps_the_agreed_one(
    api, dispatcher
):
    window = (hours(48), hours(50))
    request = RequestFactory(
        tenant=dispatcher.tenant,
        window_start=window[0],
        window_end=window[1],
        customer=CustomerFactory(tenant=dispatcher.tenant, phone="+77015551234"),
    )

    response = offer(api(dispatcher), request, reason="Technician ill")

    assert response.status_code == 200, response.content
    message = Notification.objects.get(request=request, kind="window_offer")
    assert message.recipient == "+77015551234"
    assert "/t/" in message.body and message.body.endswith("?change=1")
    request.refresh_from_db()
    assert (request.window_start, request.window_end) == window
    note = request.status_changes.last()
    assert note.actor == dispatcher
    assert note.reason == f"New window offered to the customer by {dispatcher}: Technician ill"


def test_a_second_offer_sends_a_second_message(api, dispatcher):
    request = RequestFactory(tenant=dispatcher.tenant, window_start=hours(48), window_end=hours(50))
    client = api(dispatcher)

    offer(client, request)
    offer(client, request)

    assert Notification.objects.filter(request=request, kind="window_offer").count() == 2


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"kind": "emergency"}, "not planned"),
        ({"status": "on_site"}, "under way"),
        ({"window_start": "soon"}, "inside the cut-off"),
    ],
)
def test_a_new_window_is_not_offered_where_the_customer_cannot_pick_one(
    api, dispatcher, extra, why
):
    if extra.get("window_start") == "soon":
        extra = {"window_start": hours(1), "window_end": hours(3)}
    request = RequestFactory(tenant=dispatcher.tenant, **extra)

    response = offer(api(dispatcher), request)

    assert response.status_code == 409, why
    assert not Notification.objects.filter(request=request).exists()


def test_a_customer_without_phone_or_email_cannot_be_offered_a_window(api, dispatcher):
    silent = CustomerFactory(tenant=dispatcher.tenant, phone="", email="")
    request = RequestFactory(tenant=dispatcher.tenant, customer=silent)

    response = offer(api(dispatcher), request)

    assert response.status_code == 409
    assert "no phone or e-mail" in response.json()["detail"]


def test_only_dispatchers_offer_windows(api, operator, other_dispatcher):
    request = RequestFactory(tenant=operator.tenant)

    assert offer(api(operator), request).status_code == 403
    assert offer(api(other_dispatcher), request).status_code == 404


def test_the_timeline_pages_the_crew_by_name_and_finds_a_technician(api, dispatcher):
    for name in ("Dana", "Aigerim", "Bolat", "Chingiz"):
        TechnicianFactory(tenant=dispatcher.tenant, user__first_name=name)
    client = api(dispatcher)

    first = client.get(TIMELINE, {"limit": 3}).json()
    rest = client.get(TIMELINE, {"limit": 3, "offset": 3}).json()
    found = client.get(TIMELINE, {"search": "bol"}).json()

    assert [t["name"].split()[0] for t in first["technicians"]] == ["Aigerim", "Bolat", "Chingiz"]
    assert (first["count"], first["limit"], first["next_offset"]) == (4, 3, 3)
    assert [t["name"].split()[0] for t in rest["technicians"]] == ["Dana"]
    assert rest["next_offset"] is None
    assert [t["name"].split()[0] for t in found["technicians"]] == ["Bolat"]
