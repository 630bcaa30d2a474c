"""Statement budgets of the busiest reads and of one emergency assignment.

Each screen is read twice, with a few rows and with several times as many: the number of
statements must not grow with the rows (no query per row), and stays at its budget. A change
that adds a statement to one of these paths must say why here.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ContactPoint
from core.events import event_emit
from dispatch.engine.emergency import request_assign
from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.dispatch.test_windows import crew, tomorrow
from tests.factories import CustomerFactory, RequestFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

# Statements per read, and what they are.
# Every page and API read also sets its user's tenant scope and puts the connection back in its
# resting scope after (row-level security, core.tenancy): "scope" below, two statements.
# session, user, scope, tenant; the form's lists (skills, areas, technicians, customers): the
# open requests come from the board API
BOARD = 9
EVENT_FEED = 7  # session, user, scope, tenant; the events; the tenant's last number
WINDOWS = 9  # session, user, scope, tenant; the customer; the day's shifts, absences and visits
# session, user, scope, tenants served; contact point (read across tenants: 2 more); caller;
# their requests and visits
CONSOLE = 14
# session, user, scope, tenant; the technician; the day's visits with their requests, their
# skills and parts used; earlier visits at the same places; the shift; the parts catalogue
TECHNICIAN_DAY = 12
# Claim, lock the request, roster, who is busy, routes, lock the chosen one and read the route
# again, the pushed visits, the visit and its status change, the live event, the decision.
EMERGENCY_ASSIGNMENT = 25


def statements(call) -> list[str]:
    """The SQL statements `call` runs (shown when a budget fails)."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return [query["sql"][:160] for query in queries]


def emergencies(tenant, count: int) -> None:
    for _ in range(count):
        request_create(
            tenant=tenant,
            customer=CustomerFactory(tenant=tenant),
            kind="emergency",
            category="outage",
            channel="api",
        )


def test_the_board_reads_the_same_statements_for_few_or_many_requests(client, dispatcher):
    client.force_login(dispatcher)
    technician = TechnicianFactory(tenant=dispatcher.tenant)
    planned_visit(technician, starts_in=60)
    few = statements(lambda: client.get("/board/"))
    for starts_in in range(120, 720, 60):
        planned_visit(technician, starts_in=starts_in)
    emergencies(dispatcher.tenant, 5)

    many = statements(lambda: client.get("/board/"))

    assert len(few) == len(many) == BOARD, "\n".join(many)


def test_the_event_feed_reads_the_same_statements_for_few_or_many_events(client, dispatcher):
    client.force_login(dispatcher)
    emergencies(dispatcher.tenant, 1)
    few = statements(lambda: client.get("/api/v1/events/", {"after": 0}))
    with transaction.atomic():
        for number in range(30):
            event_emit(tenant_id=dispatcher.tenant_id, kind="test", payload={"n": number})

    many = statements(lambda: client.get("/api/v1/events/", {"after": 0}))

    assert len(few) == len(many) == EVENT_FEED, "\n".join(many)


def test_the_windows_offer_reads_the_same_statements_for_a_small_or_large_crew(
    client, operator, customer
):
    tenant = operator.tenant
    client.force_login(operator)
    day = tomorrow(tenant).isoformat()
    query = {"customer": customer.pk, "minutes": 60, "date_from": day, "date_to": day}
    crew(tenant, 2)
    few = statements(lambda: client.get("/api/v1/windows/", query))
    crew(tenant, 10)

    many = statements(lambda: client.get("/api/v1/windows/", query))

    assert len(few) == len(many) == WINDOWS, "\n".join(many)


def test_the_console_lookup_reads_the_same_statements_for_a_short_or_long_history(client, operator):
    tenant = operator.tenant
    ContactPoint.objects.create(tenant=tenant, kind="phone", address="+77272000001")
    caller = CustomerFactory(tenant=tenant, phone="+77010000099")
    client.force_login(operator)
    lookup = {"dialled": "+77272000001", "phone": "+77010000099"}
    RequestFactory(tenant=tenant, customer=caller)
    few = statements(lambda: client.get("/console/", lookup))
    for _ in range(8):
        RequestFactory(tenant=tenant, customer=caller)

    many = statements(lambda: client.get("/console/", lookup))

    assert len(few) == len(many) == CONSOLE, "\n".join(many)


def test_the_technicians_day_reads_the_same_statements_for_few_or_many_jobs(client, technician):
    client.force_login(technician.user)
    # Today's jobs from 00:30 on, whatever the hour the suite runs at.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    first = round((midnight - timezone.now()).total_seconds() / 60) + 30
    planned_visit(technician, starts_in=first)
    few = statements(lambda: client.get("/api/v1/me/day/"))
    for hour in range(1, 9):
        planned_visit(technician, starts_in=first + 60 * hour)

    many = statements(lambda: client.get("/api/v1/me/day/"))

    assert len(few) == len(many) == TECHNICIAN_DAY, "\n".join(many)


def test_one_emergency_assignment_stays_within_its_statement_budget(tenant):
    """A busy moment: a dozen technicians on shift, each with a day of visits, and the chosen
    one's next visit pushed by the emergency."""
    for number in range(12):
        technician = TechnicianFactory(tenant=tenant, home_lat=43.238 + number / 1000)
        for starts_in in (20, 120, 240):
            planned_visit(technician, starts_in=starts_in)
    request = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY, priority=1)
    now = timezone.now() + timedelta(seconds=1)

    with CaptureQueriesContext(connection) as queries:
        assert request_assign(request_id=request.pk, now=now) == "assigned"

    assert len(queries) <= EMERGENCY_ASSIGNMENT, "\n".join(q["sql"][:160] for q in queries)
    assert Visit.objects.filter(request=request).exists()
