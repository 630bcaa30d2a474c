"""Fair technician scorecards: job mix, minimum sample, Wilson interval, what a technician
controls, who sees whose scorecard, and disputes answered by the manager."""

from datetime import timedelta

import pytest
from django.test import Client

from reports import scorecards
from reports.models import Dispute
from reports.scorecards import wilson
from reports.selectors import KpiFilter
from requests_app.models import ServiceRequest
from technicians.models import Absence
from tests.factories import TechnicianFactory, UserFactory
from tests.reports.conftest import DAY, at, make_request, make_visit

pytestmark = pytest.mark.django_db
INSTALL, REPAIR = ServiceRequest.Category.INSTALLATION, ServiceRequest.Category.REPAIR


def test_the_wilson_interval_of_a_proportion():
    # 8 of 10: p = 0.8, z² = 3.8415 → centre (0.8 + 0.1921) / 1.3841 = 0.7167, half-width
    # 1.96 × √(0.016 + 0.0096) / 1.3841 = 0.2266 (worked by hand): 49.0 – 94.3 %.
    assert wilson(8, 10) == (49.0, 94.3)
    assert wilson(0, 20) == (0.0, 16.1)
    assert wilson(0, 0) is None


def _windows(tenant, tech, category, kept, late, day=DAY):
    """`kept` windows kept and `late` missed by the drive, an hour apart from 06:00."""
    for n in range(kept + late):
        start = at(6, day=day) + timedelta(minutes=40 * n)
        request = make_request(
            tenant, category=category, window=(start, start + timedelta(minutes=30))
        )
        arrived = start + timedelta(minutes=10 if n < kept else 45)
        make_visit(request, tech, start=start, minutes=20, arrived_at=arrived)


@pytest.fixture
def crew(tenant):
    return (
        TechnicianFactory(tenant=tenant, territory="north", on_shift=False),
        TechnicianFactory(tenant=tenant, territory="north", on_shift=False),
    )


def _line(tech, tenant, key="windows_kept", first=DAY, last=DAY):
    f = KpiFilter.for_days(tenant=tenant, first=first, last=last)
    card = scorecards.scorecard(technician=tech, f=f, tenant=tenant)
    return next(line for line in card.lines if line.key == key)


def test_the_score_is_compared_with_what_the_same_job_mix_gets(tenant, crew):
    hard, easy = crew
    # Installations are kept 10 of 20 times, repairs 18 of 20, across both technicians.
    _windows(tenant, hard, INSTALL, kept=8, late=8)  # hard: 16 installs, 4 repairs
    _windows(tenant, hard, REPAIR, kept=4, late=0, day=DAY + timedelta(days=1))
    _windows(tenant, easy, INSTALL, kept=2, late=2)  # easy: 4 installs, 16 repairs
    _windows(tenant, easy, REPAIR, kept=14, late=2, day=DAY + timedelta(days=1))

    line = _line(hard, tenant, last=DAY + timedelta(days=1))
    other = _line(easy, tenant, last=DAY + timedelta(days=1))

    # hard: 12 of 20 = 60 %; expected 16 × 0.5 + 4 × 0.9 = 11.6 → 58 %: +2 points.
    assert (line.n, line.percent, line.expected_percent, line.versus_expected) == (
        20,
        60.0,
        58.0,
        2.0,
    )
    # easy: 16 of 20 = 80 %; expected 4 × 0.5 + 16 × 0.9 = 16.4 → 82 %: −2 points.
    assert (other.percent, other.expected_percent, other.versus_expected) == (80.0, 82.0, -2.0)
    assert line.shown and line.interval == wilson(12, 20)


def test_below_the_minimum_sample_no_figure_is_shown(tenant, crew):
    _windows(tenant, crew[0], REPAIR, kept=5, late=1)

    line = _line(crew[0], tenant)

    assert line.n == 6 and not line.shown


def test_a_miss_the_technician_could_not_control_is_not_counted(tenant, crew):
    tech = crew[0]
    _windows(tenant, tech, REPAIR, kept=2, late=1)
    Absence.objects.create(tenant=tenant, technician=tech, start=at(7, 15), end=at(9))

    line = _line(tech, tenant)

    # The late one (06:40 window + 45 min) overlaps the absence: not theirs.
    assert (line.n, line.hits, line.uncontrollable, line.against) == (2, 2, 1, [])


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_technician_sees_only_their_own_scorecard(tenant, crew, manager):
    mine, theirs = crew
    _windows(tenant, mine, REPAIR, kept=1, late=1)
    me = _browser(mine.user)

    own = me.get(f"/reports/scorecard/?start={DAY}&end={DAY}")
    other = me.get(f"/reports/scorecard/?technician={theirs.pk}")
    by_manager = _browser(manager).get(
        f"/reports/scorecard/?technician={mine.pk}&start={DAY}&end={DAY}"
    )

    assert own.status_code == 200 and str(mine).encode() in own.content
    assert b'href="/reports/scorecard/"' in me.get("/tech/").content  # from the top bar
    assert other.status_code == 404
    assert by_manager.status_code == 200 and b"Not enough jobs yet" in by_manager.content


def test_a_manager_of_another_client_cannot_open_a_scorecard(tenant, crew, other_tenant):
    stranger = UserFactory(tenant=other_tenant, role="manager")

    assert _browser(stranger).get(f"/reports/scorecard/?technician={crew[0].pk}").status_code == 404


def test_a_technician_disputes_an_item_and_an_upheld_answer_takes_it_off(tenant, crew, manager):
    tech = crew[0]
    _windows(tenant, tech, REPAIR, kept=1, late=1)
    late = ServiceRequest.objects.order_by("-pk").first()
    me = _browser(tech.user)

    page = me.get(f"/reports/scorecard/?start={DAY}&end={DAY}")
    assert late.number.encode() in page.content
    me.post(
        f"/reports/scorecard/dispute/?start={DAY}&end={DAY}",
        {"request": late.pk, "kpi": "windows_kept", "note": "The customer called me off."},
    )
    dispute = Dispute.objects.get()
    boss = _browser(manager)
    assert b"The customer called me off." in boss.get("/reports/disputes/").content
    boss.post(f"/reports/disputes/{dispute.pk}/answer/", {"answer": "Agreed.", "upheld": "yes"})

    dispute.refresh_from_db()
    assert dispute.upheld and dispute.answered_by == manager
    line = _line(tech, tenant)
    assert (line.n, line.hits, line.uncontrollable) == (1, 1, 1)
    assert b"Agreed." in me.get(f"/reports/scorecard/?start={DAY}&end={DAY}").content


def test_a_technician_cannot_dispute_a_request_that_was_never_theirs(tenant, crew):
    _windows(tenant, crew[1], REPAIR, kept=0, late=1)
    theirs = ServiceRequest.objects.get()

    response = _browser(crew[0].user).post(
        "/reports/scorecard/dispute/",
        {"request": theirs.pk, "kpi": "windows_kept", "note": "Not mine."},
    )

    assert response.status_code == 404 and not Dispute.objects.exists()
