import itertools

import pytest

from core.errors import IllegalTransition
from requests_app.models import StatusChange
from requests_app.services import request_transition
from requests_app.states import TRANSITIONS, Status, check_transition
from tests.factories import RequestFactory

LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a, b in itertools.product(Status, Status) if b not in TRANSITIONS[a]]


def test_every_status_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == set(Status)


def test_a_cancelled_request_goes_nowhere_and_a_completed_one_only_back_to_new():
    assert TRANSITIONS[Status.COMPLETED] == frozenset({Status.NEW})
    assert TRANSITIONS[Status.CANCELLED] == frozenset()


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_a_legal_transition_is_allowed(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_an_illegal_transition_raises_a_domain_error(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


@pytest.mark.django_db
def test_a_transition_writes_a_status_change_with_actor_and_reason(dispatcher):
    request = RequestFactory(tenant=dispatcher.tenant)
    request_transition(request=request, to=Status.CANCELLED, actor=dispatcher, reason="duplicate")
    change = StatusChange.objects.get(request=request)
    assert (change.from_status, change.to_status) == ("new", "cancelled")
    assert change.actor == dispatcher
    assert change.reason == "duplicate"
    request.refresh_from_db()
    assert request.status == Status.CANCELLED


@pytest.mark.django_db
def test_an_illegal_transition_changes_nothing(dispatcher):
    request = RequestFactory(tenant=dispatcher.tenant, status=Status.COMPLETED)
    with pytest.raises(IllegalTransition):
        request_transition(request=request, to=Status.ASSIGNED, actor=dispatcher)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert not StatusChange.objects.filter(request=request).exists()
