"""Arrival windows: offered only where a qualified technician can really be, never oversold."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from core.errors import Conflict
from dispatch.windows import JobToBook, windows_offered
from requests_app.booking import request_create
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Absence, Shift, Technician, Visit
from tests.factories import ALMATY, TechnicianFactory

pytestmark = pytest.mark.django_db


def tomorrow(tenant):
    return timezone.localdate(timezone=tenant.zone) + timedelta(days=1)


def at(tenant, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=tenant.zone)


def crew(tenant, count=1, *, start=8, end=20, skills=(), lunch=0):
    """Technicians living at the customer's door, on shift tomorrow from `start` to `end`."""
    day = tomorrow(tenant)
    technicians = []
    for _ in range(count):
        technician = TechnicianFactory(tenant=tenant, on_shift=False, skills=list(skills))
        Shift.objects.create(
            tenant=tenant,
            technician=technician,
            date=day,
            start=at(tenant, day, start),
            end=at(tenant, day, end),
            lunch_minutes=lunch,
        )
        technicians.append(technician)
    return technicians


def offered(tenant, *, minutes=60, skills=(), point=ALMATY):
    day = tomorrow(tenant)
    job = JobToBook(point=point, minutes=minutes, skills=frozenset(skills))
    return windows_offered(tenant=tenant, job=job, date_from=day, date_to=day)


def book(tenant, customer, window, minutes=60, skills=()):
    return request_create(
        tenant=tenant,
        customer=customer,
        kind="planned",
        category="installation",
        channel="phone",
        estimated_minutes=minutes,
        skills=skills,
        window=window,
    )


def test_windows_are_offered_within_a_qualified_technicians_shift(tenant):
    crew(tenant, start=8, end=14)
    day = tomorrow(tenant)

    starts = sorted(offer.start for offer in offered(tenant))

    assert starts == [at(tenant, day, h) for h in (8, 10, 12)]


def test_a_night_crew_on_shift_does_not_make_night_windows(tenant):
    crew(tenant, start=0, end=23)
    day = tomorrow(tenant)

    starts = sorted(offer.start for offer in offered(tenant))

    assert starts == [at(tenant, day, h) for h in (8, 10, 12, 14, 16, 18)]


def test_the_client_sets_the_hours_planned_visits_are_offered(tenant):
    tenant.visit_hours_start, tenant.visit_hours_end = 9, 15
    tenant.save()
    crew(tenant, start=0, end=23)
    day = tomorrow(tenant)

    starts = sorted(offer.start for offer in offered(tenant))

    assert starts == [at(tenant, day, h) for h in (9, 11, 13)]


def test_no_window_is_offered_without_a_technician_with_the_skills(tenant, fiber):
    crew(tenant)

    assert offered(tenant, skills=["fiber"]) == []


def test_a_technician_with_the_skills_makes_windows_available(tenant, fiber):
    crew(tenant, skills=[fiber])

    assert offered(tenant, skills=["fiber"])


def test_an_absence_takes_its_windows_away(tenant):
    [technician] = crew(tenant, start=8, end=14)
    day = tomorrow(tenant)
    Absence.objects.create(
        tenant=tenant,
        technician=technician,
        start=at(tenant, day, 7),
        end=at(tenant, day, 12),
        reason="training",
    )

    assert [offer.start for offer in offered(tenant)] == [at(tenant, day, 12)]


def test_a_window_too_far_to_drive_to_and_back_is_not_offered(tenant):
    crew(tenant, start=8, end=10)
    far = (ALMATY[0] + 0.2, ALMATY[1])  # ~22 km: 57 min each way at 30 km/h × 1.3

    assert offered(tenant, minutes=30, point=far) == []
    assert offered(tenant, minutes=30) != []


def test_booking_a_window_holds_capacity_with_a_visit_inside_it(tenant, customer):
    [technician] = crew(tenant)
    day = tomorrow(tenant)
    window = (at(tenant, day, 10), at(tenant, day, 12))

    request = book(tenant, customer, window)

    visit = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert visit.technician == technician
    assert window[0] <= visit.planned_start <= window[1]
    assert request.status == ServiceRequest.Status.ASSIGNED
    # The promise is kept apart from the plan: the agreed window stays as agreed.
    request.refresh_from_db()
    assert (request.window_start, request.window_end) == window


def test_a_full_window_is_no_longer_offered_and_cannot_be_booked(tenant, customer):
    crew(tenant, start=8, end=10)
    day = tomorrow(tenant)
    window = (at(tenant, day, 8), at(tenant, day, 10))
    book(tenant, customer, window, minutes=90)

    assert offered(tenant, minutes=90) == []
    with pytest.raises(Conflict):
        book(tenant, customer, window, minutes=90)
    assert ServiceRequest.objects.count() == 1  # the refused booking left nothing behind


def test_when_the_nearest_technicians_are_full_one_further_away_takes_the_booking(
    tenant, customer, monkeypatch
):
    monkeypatch.setattr("dispatch.windows.NEAREST_FIRST", 1)
    near, far = crew(tenant, 2, start=8, end=10)
    Technician.objects.filter(pk=far.pk).update(home_lat=ALMATY[0] + 0.02)
    day = tomorrow(tenant)
    window = (at(tenant, day, 8), at(tenant, day, 10))

    first = book(tenant, customer, window, minutes=90)
    second = book(tenant, customer, window, minutes=90)

    assert Visit.objects.get(request=first).technician == near
    assert Visit.objects.get(request=second).technician == far


def test_the_lunch_break_is_capacity_a_window_cannot_take(tenant, customer):
    crew(tenant, start=8, end=12, lunch=90)  # 240 minutes at work, 150 for jobs
    day = tomorrow(tenant)
    book(tenant, customer, (at(tenant, day, 8), at(tenant, day, 10)), minutes=90)

    assert offered(tenant, minutes=90) == []
    assert offered(tenant, minutes=60) != []


def test_offers_are_graded_best_first_with_the_least_loaded_technician(tenant, customer):
    crew(tenant, 2, start=8, end=12)
    day = tomorrow(tenant)
    book(tenant, customer, (at(tenant, day, 8), at(tenant, day, 10)))

    offers = offered(tenant)

    assert [o.score for o in offers] == sorted(o.score for o in offers)
    assert offers[0].load == 0  # the idle technician, not the one already booked
    assert [o.recommended for o in offers[:3]] == [True] * min(3, len(offers))


def test_rescheduling_moves_the_booking_and_records_who_and_why(tenant, customer, dispatcher):
    from requests_app.booking import request_reschedule

    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))
    first = Visit.objects.get(request=request, status__in=Visit.ACTIVE)

    request_reschedule(
        service_request=request,
        window=(at(tenant, day, 14), at(tenant, day, 16)),
        actor=dispatcher,
        reason="customer at work",
    )

    first.refresh_from_db()
    assert first.status == Visit.Status.CANCELLED
    visit = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert at(tenant, day, 14) <= visit.planned_start <= at(tenant, day, 16)
    change = StatusChange.objects.get(request=request, to_status="rescheduled")
    assert change.actor == dispatcher
    assert "customer at work" in change.reason and "10:00" in change.reason
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ASSIGNED


def test_a_reschedule_into_a_full_window_keeps_the_old_promise(tenant, customer, dispatcher):
    from requests_app.booking import request_reschedule

    crew(tenant, start=8, end=12)
    day = tomorrow(tenant)
    book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)), minutes=110)
    mine = book(tenant, customer, (at(tenant, day, 8), at(tenant, day, 10)), minutes=60)

    with pytest.raises(Conflict):
        request_reschedule(
            service_request=mine,
            window=(at(tenant, day, 10), at(tenant, day, 12)),
            actor=dispatcher,
        )

    mine.refresh_from_db()
    assert mine.window_start == at(tenant, day, 8)
    assert Visit.objects.filter(request=mine, status__in=Visit.ACTIVE).count() == 1


def test_cancelling_frees_the_window_for_someone_else(tenant, customer, dispatcher):
    from requests_app.booking import request_cancel

    crew(tenant, start=8, end=10)
    day = tomorrow(tenant)
    window = (at(tenant, day, 8), at(tenant, day, 10))
    first = book(tenant, customer, window, minutes=90)

    request_cancel(service_request=first, actor=dispatcher, reason="moved away")

    assert offered(tenant, minutes=90)
    assert book(tenant, customer, window, minutes=90).status == "assigned"
