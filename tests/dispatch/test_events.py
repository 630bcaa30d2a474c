"""Every change is an event row with a gapless per-tenant sequence, pushed after commit."""

from unittest import mock

import pytest
from django.db import transaction

from core.events import Change, event_emit, events_deferred, events_emit
from core.models import Event
from requests_app.booking import request_create
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_events_are_numbered_per_tenant_without_gaps(tenant, other_tenant):
    with transaction.atomic():
        for _ in range(3):
            event_emit(tenant_id=tenant.pk, kind="x", payload={})
        event_emit(tenant_id=other_tenant.pk, kind="x", payload={})

    assert list(Event.objects.filter(tenant=tenant).values_list("seq", flat=True)) == [1, 2, 3]
    assert list(Event.objects.filter(tenant=other_tenant).values_list("seq", flat=True)) == [1]


def test_an_event_is_pushed_only_after_commit(tenant, django_capture_on_commit_callbacks):
    # Exits run inner first: commit, then the captured callbacks run, all under the patch.
    with (
        mock.patch("core.events.broadcast") as push,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        event_emit(tenant_id=tenant.pk, kind="x", payload={"a": 1})
        assert push.call_count == 0
    assert len(callbacks) == 1
    [pushes] = push.call_args.args
    assert list(pushes) == [f"tenant.{tenant.pk}.dispatch"]
    [message] = pushes[f"tenant.{tenant.pk}.dispatch"]
    assert message["seq"] == 1


def test_deferred_events_are_numbered_together_when_the_block_ends(
    tenant, django_capture_on_commit_callbacks
):
    with (
        mock.patch("core.events.broadcast") as push,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        with events_deferred():
            event_emit(tenant_id=tenant.pk, kind="first", payload={})
            events_emit(
                tenant_id=tenant.pk,
                changes=[Change("second", {}, technician_id=7), Change("third", {})],
            )
            assert not Event.objects.exists()  # held: the tenant's counter is not taken yet
            tenant.refresh_from_db()
            assert tenant.event_seq == 0
        assert list(Event.objects.order_by("seq").values_list("seq", "kind")) == [
            (1, "first"),
            (2, "second"),
            (3, "third"),
        ]
    # One push per audience for the whole change, each in sequence order.
    [pushes] = push.call_args.args
    assert push.call_count == 1
    assert [m["kind"] for m in pushes[f"tenant.{tenant.pk}.dispatch"]] == [
        "first",
        "second",
        "third",
    ]
    assert [m["kind"] for m in pushes["technician.7"]] == ["second"]


def test_deferred_events_of_a_failed_change_are_never_stored(tenant):
    with pytest.raises(RuntimeError), transaction.atomic(), events_deferred():
        event_emit(tenant_id=tenant.pk, kind="x", payload={})
        raise RuntimeError("boom")
    assert not Event.objects.exists()


def test_a_rolled_back_change_leaves_no_event_and_no_push(tenant):
    with mock.patch("core.events.broadcast") as push, pytest.raises(RuntimeError):  # noqa: SIM117 — the rollback must happen inside the patch
        with transaction.atomic():
            event_emit(tenant_id=tenant.pk, kind="x", payload={})
            raise RuntimeError("boom")
    assert push.call_count == 0
    assert not Event.objects.exists()
    tenant.refresh_from_db()
    assert tenant.event_seq == 0


def test_creating_a_request_emits_one_event_and_enqueues_assignment_after_commit(
    customer, dispatcher, django_capture_on_commit_callbacks
):
    with mock.patch("dispatch.tasks.assign_request.delay") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            request = request_create(
                tenant=dispatcher.tenant,
                customer=customer,
                kind="emergency",
                category="outage",
                channel="phone",
                actor=dispatcher,
            )
            assert enqueue.call_count == 0
        enqueue.assert_called_once_with(request_id=request.pk)
    event = Event.objects.get(tenant=dispatcher.tenant)
    assert event.kind == "request.created"
    assert event.payload["number"] == request.number


def test_the_feed_returns_events_after_a_sequence_number(api, dispatcher):
    with transaction.atomic():
        for i in range(5):
            event_emit(tenant_id=dispatcher.tenant_id, kind="x", payload={"i": i})

    body = api(dispatcher).get("/api/v1/events/?after=3").json()

    assert [e["seq"] for e in body["events"]] == [4, 5]
    assert body["last_seq"] == 5
    assert body["complete"] is True


def test_the_feed_never_shows_another_tenants_events(api, other_dispatcher, tenant):
    with transaction.atomic():
        event_emit(tenant_id=tenant.pk, kind="secret", payload={})

    body = api(other_dispatcher).get("/api/v1/events/?after=0").json()

    assert body["events"] == []


def test_the_feed_rejects_a_bad_cursor_with_a_field_message(api, dispatcher):
    response = api(dispatcher).get("/api/v1/events/?after=-1")
    assert response.status_code == 400
    assert "after" in response.json()


def test_a_new_tenant_starts_at_sequence_zero():
    assert TenantFactory().event_seq == 0
