"""The crew's API: technicians with their skills, the day's shifts and absences, where they
were last seen, and a technician's day in route order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from technicians.models import Absence
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.factories import SkillFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/technicians/"


def test_a_dispatcher_lists_their_crew_with_skills_todays_shift_and_last_position(
    api, dispatcher, fiber, other_tenant
):
    technician = TechnicianFactory(
        tenant=dispatcher.tenant,
        skills=[fiber],
        user__first_name="Aigerim",
        user__last_name="Sadykova",
        territory="Bostandyk",
    )
    technician.last_lat, technician.last_lon = 43.25, 76.95
    technician.last_seen_at = timezone.now()
    technician.save()
    TechnicianFactory(tenant=other_tenant)

    body = api(dispatcher).get(URL).json()

    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == technician.pk
    assert row["name"] == "Aigerim Sadykova"
    assert row["territory"] == "Bostandyk"
    assert row["skills"] == [{"code": "fiber", "name": "Fibre"}]
    assert (row["position"]["lat"], row["position"]["lon"]) == (43.25, 76.95)
    assert len(row["shifts"]) == 1
    assert row["absences"] == []


def test_a_technician_never_seen_has_no_position(api, dispatcher):
    TechnicianFactory(tenant=dispatcher.tenant)

    row = api(dispatcher).get(URL).json()["results"][0]

    assert row["position"] is None
    assert set(row["home"]) == {"lat", "lon"}


def test_the_crew_filters_by_skill_shift_and_name(api, dispatcher, fiber):
    fibre_tech = TechnicianFactory(tenant=dispatcher.tenant, skills=[fiber], user__last_name="Ten")
    off_shift = TechnicianFactory(tenant=dispatcher.tenant, on_shift=False, user__last_name="Li")
    client = api(dispatcher)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in client.get(URL + query).json()["results"]}

    assert ids("?skill=fiber") == {fibre_tech.pk}
    assert ids("?on_shift=true") == {fibre_tech.pk}
    assert ids("?on_shift=false") == {off_shift.pk}
    assert ids("?search=li") == {off_shift.pk}


def test_an_absence_of_the_day_is_shown(api, dispatcher):
    technician = TechnicianFactory(tenant=dispatcher.tenant)
    now = timezone.now()
    Absence.objects.create(
        tenant=technician.tenant,
        technician=technician,
        start=now,
        end=now + timedelta(hours=2),
        reason="Dentist",
    )

    row = api(dispatcher).get(URL).json()["results"][0]

    assert [absence["reason"] for absence in row["absences"]] == ["Dentist"]


def test_a_technicians_day_lists_the_visits_in_route_order_with_their_agreed_windows(
    api, dispatcher
):
    technician = TechnicianFactory(tenant=dispatcher.tenant)
    # 12:00 and 14:00 of today, whatever the hour the test runs at.
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    to_noon = round((noon - timezone.now()).total_seconds() / 60)
    later = planned_visit(technician, starts_in=to_noon + 120)
    sooner = planned_visit(technician, starts_in=to_noon, pinned=True)

    body = api(dispatcher).get(f"{URL}{technician.pk}/day/").json()

    assert body["date"] == timezone.localdate().isoformat()
    assert body["technician"]["id"] == technician.pk
    assert [visit["id"] for visit in body["visits"]] == [sooner.pk, later.pk]
    first = body["visits"][0]
    assert first["pinned"] is True
    assert first["request_number"] == sooner.request.number
    assert first["window_start"] and first["window_end"]


def test_another_tenants_technician_is_not_found(api, dispatcher, other_tenant):
    foreign = TechnicianFactory(tenant=other_tenant)
    client = api(dispatcher)

    assert client.get(f"{URL}{foreign.pk}/").status_code == 404
    assert client.get(f"{URL}{foreign.pk}/day/").status_code == 404


@pytest.mark.parametrize("role", ["technician", "operator"])
def test_only_the_boards_users_read_the_crew(api, request, role):
    user = request.getfixturevalue(role)
    user = getattr(user, "user", user)

    assert api(user).get(URL).status_code == 403


def test_a_day_that_is_not_a_date_is_a_400_naming_the_field(api, dispatcher):
    technician = TechnicianFactory(tenant=dispatcher.tenant)

    response = api(dispatcher).get(f"{URL}{technician.pk}/day/?date=tomorrow")

    assert response.status_code == 400
    assert "date" in response.json()


def test_the_crew_costs_the_same_statements_for_few_or_many_technicians(client, dispatcher):
    client.force_login(dispatcher)
    skill = SkillFactory(tenant=dispatcher.tenant, code="copper", name="Copper")

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    TechnicianFactory(tenant=dispatcher.tenant, skills=[skill])
    few = statements()
    for _ in range(12):
        TechnicianFactory(tenant=dispatcher.tenant, skills=[skill])

    assert statements() == few
