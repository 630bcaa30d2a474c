"""Every API operation, fuzzed from the generated OpenAPI schema: no 500s, no schema violations.

Schemathesis reads `/api/schema/` from the in-process WSGI app and sends each operation a
bounded, seeded set of valid and invalid inputs (examples, boundary values, then 15 generated
cases) as a dispatcher of a tenant with data. Each answer must be a documented status code
with a body that matches its schema; bad input is a 4xx with field messages, never a 500.

Generated ids rarely name a row, so valid (positive) cases are pointed at the tenant's real
request, visit, customer and technician: the services behind them run, not only the lookups.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from contacts.services import contact_create
from requests_app.booking import request_create
from technicians.models import Shift
from tests.factories import (
    CustomerFactory,
    SkillFactory,
    TechnicianFactory,
    export_job,
    follow_up_case,
)


def fuzz_config(*, seed: int, examples: int) -> schemathesis.Config:
    """Bounded and repeatable: a fixed seed, no shrinking, no example database."""
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "suppress-health-check": ["too_slow", "filter_too_much"],
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )


CONFIG = fuzz_config(seed=20240601, examples=15)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@dataclass
class World:
    token: str
    ids: dict[str, int]  # collection in the path → the id of one of the tenant's rows
    references: dict  # field of a body or query → a value naming the tenant's rows


@pytest.fixture
def in_process():
    """Keep the test's connection open across requests, as Django's test client does: the
    WSGI handler would close it after each one, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(in_process, dispatcher, customer) -> World:
    tenant = dispatcher.tenant
    # The suite runs at any hour: the window below (an hour from now) must be a visit hour.
    tenant.visit_hours_start, tenant.visit_hours_end = 0, 24
    tenant.save(update_fields=["visit_hours_start", "visit_hours_end"])
    fiber = SkillFactory(tenant=tenant, code="fiber", name="Fibre")
    technician = TechnicianFactory(tenant=tenant, skills=[fiber], on_shift=False)
    now = timezone.now()
    # On shift now, and on the window's day (tomorrow already, an hour before midnight).
    Shift.objects.create(
        tenant=tenant,
        technician=technician,
        date=timezone.localdate(now + timedelta(hours=1), tenant.zone),
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=8),
    )
    planned = request_create(
        tenant=tenant,
        customer=customer,
        kind="planned",
        category="installation",
        channel="phone",
        estimated_minutes=30,
        window=(now + timedelta(hours=1), now + timedelta(hours=3)),
    )
    request_create(
        tenant=tenant,
        customer=CustomerFactory(tenant=tenant),
        kind="emergency",
        category="outage",
        channel="api",
    )
    visit = planned.visits.get()
    return World(
        token=AuthToken.objects.create(dispatcher)[1],
        ids={
            "requests": planned.pk,
            "visits": visit.pk,
            "customers": customer.pk,
            "technicians": technician.pk,
            "followups": follow_up_case(tenant).pk,
            "exports": export_job(tenant).pk,
            "contacts": contact_create(
                tenant=tenant, channel="email", sender=customer.email or "a@b.kz"
            ).pk,
        },
        references={
            "customer": customer.pk,
            "technician": technician.pk,
            "skills": [fiber.code],
            "required_skills": [fiber.code],
        },
    )


def point_at_real_rows(case, world: World) -> None:
    """Valid parts of a case name the tenant's rows; invalid parts keep what was generated."""
    meta = case.meta
    if "id" in case.path_parameters and not meta.is_negative_at(ParameterLocation.PATH):
        parts = case.path.split("/")  # /api/v1/[board/]<collection>/{id}/...
        collection = parts[parts.index("{id}") - 1]
        case.path_parameters = {**case.path_parameters, "id": world.ids[collection]}
    for location, attribute in (
        (ParameterLocation.BODY, "body"),
        (ParameterLocation.QUERY, "query"),
    ):
        values = getattr(case, attribute)
        if isinstance(values, dict) and not meta.is_negative_at(location):
            real = {key: value for key, value in world.references.items() if key in values}
            if real:
                setattr(case, attribute, {**values, **real})


@schema.parametrize()
# The fixture's rows are shared by an operation's cases, inside one rolled-back transaction.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_any_input_as_documented(case, world):
    point_at_real_rows(case, world)

    case.call_and_validate(headers={"Authorization": f"Token {world.token}"}, checks=CHECKS)
