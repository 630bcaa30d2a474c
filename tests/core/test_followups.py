"""Follow-up work asked for by task name: sent only after commit, never an error once committed."""

from datetime import date
from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from config.celery import app
from core import followups
from core.redis_client import redis_client


@pytest.mark.parametrize(
    "name",
    [
        followups.ASSIGN_REQUEST,
        followups.PLAN_DAY,
        followups.DELIVER_NOTIFICATIONS,
        followups.SURVEY_INVITE,
    ],
)
def test_every_follow_up_name_is_a_registered_task(name):
    app.loader.import_default_modules()

    assert name in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_follow_up_is_sent_after_commit_and_not_before():
    with mock.patch("dispatch.tasks.assign_request.delay") as delay:
        with transaction.atomic():
            followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=7)
            assert not delay.called
        delay.assert_called_once_with(request_id=7)


@pytest.mark.django_db(transaction=True)
def test_no_follow_up_is_sent_for_a_change_that_rolls_back():
    with (
        mock.patch("dispatch.tasks.assign_request.delay") as delay,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=7)
        raise RuntimeError
    assert not delay.called


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_does_not_turn_a_committed_change_into_an_error(caplog):
    down = OperationalError("the broker is down")
    with mock.patch("dispatch.tasks.assign_request.delay", side_effect=down), transaction.atomic():
        followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=7)
    assert "the reconciler will" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_many_asks_for_a_re_plan_of_one_day_make_one(settings):
    redis_client().delete("dispatch:replan:99:2026-12-05")
    with mock.patch("dispatch.tasks.plan_tenant_day.apply_async") as plan:
        for _ in range(3):
            with transaction.atomic():
                followups.replan_soon(tenant_id=99, day=date(2026, 12, 5))
    plan.assert_called_once_with(
        kwargs={"tenant_id": 99, "day": "2026-12-05"}, countdown=settings.PLAN_DEBOUNCE_SECONDS
    )
