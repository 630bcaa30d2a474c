"""The same fuzzing, as each role the API serves (50 generated cases an operation): whatever a
manager, an operator or a technician sends, the answer is documented and never a 500."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from knox.models import AuthToken

from config.wsgi import application
from tests import test_openapi_fuzz as fuzz

# The fixtures of the dispatcher's fuzzing: the same tenant with data, served in process.
in_process, world = fuzz.in_process, fuzz.world

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", application, config=fuzz.fuzz_config(seed=20261204, examples=50)
)


@pytest.fixture(params=["manager", "operator", "technician"])
def member_token(request, world):
    member = request.getfixturevalue(request.param)
    user = getattr(member, "user", member)  # a technician's user
    return AuthToken.objects.create(user)[1]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_any_input_as_documented_for_every_role(case, world, member_token):
    fuzz.point_at_real_rows(case, world)

    case.call_and_validate(headers={"Authorization": f"Token {member_token}"}, checks=fuzz.CHECKS)
