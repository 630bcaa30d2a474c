"""The phone's queue replayed on the server: each action once, in order, with the phone's time
and the server's; conflicts answered 409 and kept in the request's history; guard rails."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldwork.models import CallAttempt, ClientAction, PartUsed, ProofOfWork, VisitPhoto
from requests_app.models import StatusChange
from technicians.models import Shift, Visit
from technicians.services import visit_unassign
from tests.factories import TechnicianFactory
from tests.technicians.conftest import JPEG, PNG, action, data_url

pytestmark = pytest.mark.django_db


def trail(visit) -> list[str]:
    return list(
        StatusChange.objects.filter(request=visit.request).values_list("to_status", flat=True)
    )


def whole_job(job, start, **done):
    return [
        action(job, to="accepted", at=start),
        action(job, to="en_route", at=start + timedelta(minutes=1)),
        action(job, to="on_site", at=start + timedelta(minutes=20)),
        action(
            job,
            to="completed",
            at=start + timedelta(minutes=50),
            resolution="cable_replaced",
            checklist=["fault_found", "fault_fixed"],
            **done,
        ),
    ]


def test_the_same_client_id_twice_is_applied_once(replay, job):
    accept = action(job, to="accepted")

    first = replay(accept).json()["results"]
    second = replay(accept).json()["results"]

    assert [r["outcome"] for r in first + second] == ["applied", "duplicate"]
    assert trail(job).count("accepted") == 1
    assert ClientAction.objects.filter(visit=job).count() == 1


def test_a_day_replayed_keeps_the_phones_times_in_order_and_the_servers_time(replay, job):
    start = timezone.now() - timedelta(minutes=55)
    actions = whole_job(job, start)

    results = replay(*actions).json()["results"]
    again = replay(*actions).json()["results"]

    assert [r["outcome"] for r in results] == ["applied"] * 4
    assert [r["outcome"] for r in again] == ["duplicate"] * 4
    job.refresh_from_db()
    assert job.status == "completed"
    assert job.accepted_at == start
    assert job.arrived_at == start + timedelta(minutes=20)
    assert job.finished_at == start + timedelta(minutes=50)
    rows = ClientAction.objects.filter(visit=job).order_by("happened_at")
    assert all(row.applied_at > row.happened_at for row in rows)
    assert trail(job) == ["accepted", "en_route", "on_site", "completed"]
    proof = ProofOfWork.objects.get(visit=job)
    assert (proof.resolution, proof.checklist) == ("cable_replaced", ["fault_found", "fault_fixed"])


def test_completing_needs_a_resolution_of_the_jobs_category(replay, job):
    start = timezone.now() - timedelta(minutes=30)
    steps = whole_job(job, start)
    steps[-1]["resolution"] = "installed"  # an installation's, not a repair's

    results = replay(*steps).json()["results"]

    assert results[-1]["outcome"] == "invalid"
    assert results[-1]["status"] == 400
    job.refresh_from_db()
    assert job.status == "on_site"


def test_a_job_reassigned_meanwhile_is_a_conflict_shown_and_kept_in_the_history(
    replay, job, dispatcher, tenant
):
    visit_unassign(visit=job, actor=dispatcher, reason="Customer called")
    accept = action(job, to="accepted")

    result = replay(accept).json()["results"][0]
    again = replay(accept).json()["results"][0]

    assert (result["outcome"], result["status"], result["code"]) == ("conflict", 409, "cancelled")
    assert "cancelled" in result["detail"]
    assert again["outcome"] == "conflict" and again["duplicate"] is True
    notes = StatusChange.objects.filter(request=job.request, reason__startswith="Not applied")
    assert notes.count() == 1  # once, however often the phone replays it
    assert ClientAction.objects.get(client_id=accept["client_id"]).outcome == "conflict"


def test_a_job_given_to_another_technician_is_a_conflict(replay, job, tenant):
    other = TechnicianFactory(tenant=tenant)
    Visit.objects.filter(pk=job.pk).update(technician=other)

    result = replay(action(job, to="accepted")).json()["results"][0]

    assert (result["outcome"], result["code"]) == ("conflict", "reassigned")


def test_finishing_before_the_window_asks_for_a_confirmation_and_records_why(replay, job):
    job.request.window_start = timezone.now() + timedelta(hours=2)
    job.request.window_end = timezone.now() + timedelta(hours=4)
    job.request.status = "on_site"
    job.request.save()
    Visit.objects.filter(pk=job.pk).update(status="on_site")
    done = action(job, to="completed", resolution="cable_replaced")
    later = action(job, kind="note", note="Left the old cable")

    refused = replay(done, later).json()["results"]
    confirmed = replay({**done, "confirm": True, "why": "Customer let me in early"}).json()

    assert [r["outcome"] for r in refused] == ["guard", "pending"]
    assert refused[0]["status"] == 409
    assert [p["code"] for p in refused[0]["problems"]] == ["before_window"]
    assert confirmed["results"][0]["outcome"] == "applied"
    last = StatusChange.objects.filter(request=job.request).last()
    assert "Customer let me in early" in last.reason and "before_window" in last.reason


def test_a_confirmed_step_needs_a_reason(replay, job):
    Shift.objects.filter(technician=job.technician).update(
        start=timezone.now() + timedelta(hours=1)
    )

    result = replay(action(job, to="accepted", confirm=True)).json()["results"][0]

    assert (result["outcome"], result["status"]) == ("invalid", 400)


def test_a_step_before_the_shift_is_guarded(replay, job):
    Shift.objects.filter(technician=job.technician).update(
        start=timezone.now() + timedelta(hours=1)
    )

    result = replay(action(job, to="accepted")).json()["results"][0]

    assert result["outcome"] == "guard"
    assert [p["code"] for p in result["problems"]] == ["before_shift"]


def test_a_skipped_step_is_guarded_and_confirmed_passes_through_the_steps_between(replay, job):
    done = action(job, to="on_site")

    guarded = replay(done).json()["results"][0]
    applied = replay({**done, "confirm": True, "why": "Forgot to tap"}).json()["results"][0]

    assert [p["code"] for p in guarded["problems"]] == ["out_of_order"]
    assert applied["outcome"] == "applied"
    assert trail(job) == ["accepted", "en_route", "on_site"]


def test_a_step_back_is_a_conflict_even_confirmed(replay, job):
    Visit.objects.filter(pk=job.pk).update(status="on_site")

    result = replay(action(job, to="en_route", confirm=True, why="oops")).json()["results"][0]

    assert result["outcome"] == "conflict"


def test_the_existing_transition_api_has_the_same_guard(api, technician, job):
    response = api(technician.user).post(
        f"/api/v1/visits/{job.pk}/transition/", {"to": "on_site"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "guard"


def test_photos_signature_parts_notes_and_calls_are_kept_with_the_visit(replay, job, tenant):
    from fieldwork.models import Part

    Part.objects.create(tenant=tenant, code="sc-apc", name="SC/APC connector")
    results = replay(
        action(job, kind="photo", data=data_url(JPEG)),
        action(job, kind="signature", data=data_url(PNG, "image/png"), signer="A. Customer"),
        action(job, kind="parts", parts=[{"part": "sc-apc", "quantity": "2"}]),
        action(job, kind="note", note="Cable chewed by a rat"),
        action(job, kind="call", note="No answer"),
    ).json()["results"]

    assert [r["outcome"] for r in results] == ["applied"] * 5
    photo = VisitPhoto.objects.get(visit=job)
    assert photo.content_type == "image/jpeg" and photo.file.read() == JPEG
    proof = ProofOfWork.objects.get(visit=job)
    assert proof.signed_by == "A. Customer" and proof.signature.read() == PNG
    assert PartUsed.objects.get(visit=job).quantity == 2
    job.refresh_from_db()
    assert job.note.endswith("Cable chewed by a rat")
    assert CallAttempt.objects.filter(visit=job).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("data:image/jpeg;base64,not base64!", "not readable"),
        (data_url(b"GIF89a" + b"\x00" * 10, "image/gif"), "Only JPEG, PNG"),
        (data_url(b"\xff\xd8\xff" + b"\x00" * 2_000_000), "too large"),
    ],
)
def test_a_photo_that_is_not_a_small_jpeg_or_png_is_refused_with_a_clear_400(
    replay, job, data, message
):
    result = replay(action(job, kind="photo", data=data)).json()["results"][0]

    assert (result["outcome"], result["status"]) == ("invalid", 400)
    assert message in result["detail"]
    assert not VisitPhoto.objects.exists()


def test_an_invalid_action_does_not_block_the_ones_after_it(replay, job):
    results = replay(
        {"client_id": "nope", "kind": "step", "visit": job.pk, "at": "soon"},
        action(job, to="accepted"),
    ).json()["results"]

    assert [r["outcome"] for r in results] == ["invalid", "applied"]


def test_another_tenants_visit_is_not_found(replay, other_tenant):
    foreign = TechnicianFactory(tenant=other_tenant)
    now = timezone.now()
    from tests.factories import RequestFactory

    visit = Visit.objects.create(
        tenant=other_tenant,
        request=RequestFactory(tenant=other_tenant),
        technician=foreign,
        planned_start=now,
        planned_end=now + timedelta(hours=1),
    )

    result = replay(action(visit, to="accepted")).json()["results"][0]

    assert (result["outcome"], result["status"]) == ("invalid", 404)


def test_only_a_technician_replays_actions(api, dispatcher, job):
    response = api(dispatcher).post(
        "/api/v1/me/actions/", {"actions": [action(job, to="accepted")]}, format="json"
    )

    assert response.status_code == 403


def test_on_my_way_straight_from_scheduled_accepts_on_the_way(replay, job):
    result = replay(action(job, to="en_route")).json()["results"][0]

    assert result["outcome"] == "applied"
    assert trail(job) == ["accepted", "en_route"]


def test_a_stored_file_no_row_refers_to_is_swept_a_day_later_and_kept_files_stay(
    replay, job, tenant, tmp_path, settings
):
    """Storage is not transactional: a photo saved by a replay that then rolled back stays on
    disk with nothing pointing at it, until the daily purge."""
    import os

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from core.retention import purge_expired
    from core.tenancy import NO_TENANT, tenant_scope

    settings.MEDIA_ROOT = tmp_path
    replay(action(job, kind="photo", data=data_url(JPEG)))
    kept = VisitPhoto.objects.get(visit=job).file.name
    orphan = default_storage.save(f"fieldwork/{tenant.pk}/orphan.jpg", ContentFile(JPEG))
    fresh = default_storage.save(f"fieldwork/{tenant.pk}/fresh.jpg", ContentFile(JPEG))
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    for name in (kept, orphan):
        os.utime(default_storage.path(name), (two_days_ago, two_days_ago))

    with tenant_scope(NO_TENANT):  # as a caller that forgot the scope: rows still found
        assert purge_expired()["orphaned_files"] == 1

    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept) and default_storage.exists(fresh)
