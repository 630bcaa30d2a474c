"""Health for load balancers, and what clients get while a dependency is down."""

import sys
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import RequestFactory as HttpRequests
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core import health, tenancy
from core.observability import ContextFilter
from core.redis_client import redis_client
from core.views import server_error
from requests_app.models import ServiceRequest
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def beat_rang():
    health.beat_heartbeat_record()
    yield
    redis_client().delete(health.HEARTBEAT_KEY)


def test_liveness_asks_nothing_of_the_database(client, monkeypatch):
    # As in a web process, whose connections rest in no tenant's scope (the suite's rest in
    # every tenant's, so a signed-out request there sets its own).
    monkeypatch.setattr(tenancy, "_resting_scope", tenancy.NO_TENANT)
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError):
        response = client.get("/health/live/")

    assert response.status_code == 200


def test_ready_when_the_database_redis_and_beat_answer(client, beat_rang):
    response = client.get("/health/ready/")

    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {
        "database",
        "redis",
        "beat",
        "oldest_waiting_emergency",
    }


def test_not_ready_without_a_heartbeat_from_beat(client):
    redis_client().delete(health.HEARTBEAT_KEY)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["checks"]["beat"] == {"ok": False, "detail": "no heartbeat yet"}


def test_not_ready_when_an_emergency_has_waited_longer_than_any_worker_would_let_it(
    client, tenant, beat_rang, settings
):
    request = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)
    waited = settings.ASSIGN_OVERDUE_SECONDS * (settings.ASSIGN_MAX_ATTEMPTS + 2)
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(seconds=waited)
    )

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["oldest_waiting_emergency"]["ok"] is False


def test_not_ready_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    redis_client.cache_clear()  # the client of the address set above
    try:
        response = client.get("/health/ready/")
    finally:
        redis_client.cache_clear()

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_an_api_view_whose_database_is_down_answers_503_with_retry_after(api, dispatcher):
    with mock.patch(
        "requests_app.api.RequestViewSet.list", side_effect=OperationalError("connection refused")
    ):
        response = api(dispatcher).get("/api/v1/requests/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "connection refused" not in response.content.decode()  # a generic body


def test_the_last_resort_handler_tells_a_dependency_outage_from_a_bug():
    request = HttpRequests().get("/api/v1/requests/")
    for error, status in ((OperationalError("down"), 503), (KeyError("bug"), 500)):
        try:
            raise error
        except Exception:
            assert sys.exc_info()[1] is error
            response = server_error(request)
        assert response.status_code == status
        assert b"bug" not in response.content and b"down" not in response.content


def test_an_emergency_saved_while_the_broker_is_down_is_still_a_201(
    api, dispatcher, customer, django_capture_on_commit_callbacks
):
    body = {"kind": "emergency", "category": "outage", "customer": customer.pk}
    down = BrokerError("Error 111 connecting to redis")
    with (
        mock.patch("dispatch.tasks.assign_request.delay", side_effect=down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api(dispatcher).post("/api/v1/requests/", body, format="json")

    assert response.status_code == 201
    assert ServiceRequest.objects.filter(pk=response.json()["id"], status="new").exists()


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404


def test_metrics_say_what_waits_and_for_how_long(client, tenant, settings):
    settings.METRICS_TOKEN = "scrape-me"
    RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)

    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    assert response.status_code == 200
    text = response.content.decode()
    waiting = 'dispatch_requests_waiting{kind="emergency",status="new",tenant="almaty-telecom"} 1.0'
    assert waiting in text
    assert "dispatch_emergency_oldest_wait_seconds" in text
    assert 'dispatch_queue_length{queue="assign"}' in text


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one_given(client):
    made = client.get("/health/live/")
    kept = client.get("/health/live/", headers={"X-Request-ID": "lb-1234"})
    refused = client.get("/health/live/", headers={"X-Request-ID": "<script>"})

    assert len(made["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "lb-1234"
    assert refused["X-Request-ID"] != "<script>"


def test_a_log_line_says_which_request_wrote_it(client, caplog):
    caplog.handler.addFilter(ContextFilter())
    client.get("/no-such-page/", headers={"X-Request-ID": "req-77"})

    assert any(getattr(r, "request_id", "") == "req-77" for r in caplog.records)
