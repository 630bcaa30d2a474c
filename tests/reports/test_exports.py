"""A large export runs as a task: progress in its row, the file through the storage API, a
download link for the manager who asked; running the task twice is harmless."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from reports import services, tasks
from reports.models import ExportJob
from tests.factories import TechnicianFactory, UserFactory
from tests.reports.conftest import DAY, at, make_request, make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


@pytest.fixture
def windows(tenant):
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    made = []
    for hour in range(8, 13):
        request = make_request(tenant, window=(at(hour), at(hour + 1)))
        make_visit(request, tech, start=at(hour), minutes=30, arrived_at=at(hour, 10))
        made.append(request)
    return made


def _ask(api, manager, kind="csv"):
    body = {"kind": kind, "kpi": "windows_kept", "part": "all", "start": str(DAY), "end": str(DAY)}
    with mock.patch("core.followups._send") as send:
        response = api(manager).post("/api/v1/kpis/exports/", body, format="json")
    return response, send


def test_asking_for_an_export_queues_the_task_after_commit(api, manager, windows):
    with mock.patch("core.followups.transaction.on_commit", lambda fn: fn()):
        response, send = _ask(api, manager)

    assert response.status_code == 201
    assert response.json()["status"] == "pending" and response.json()["download_url"] is None
    send.assert_called_once_with(services.RUN_EXPORT, {"job_id": response.json()["id"]})


def test_the_task_counts_progress_and_leaves_a_file_to_download(api, manager, windows):
    response, _send = _ask(api, manager)
    job_id = response.json()["id"]

    tasks.run_export.run(job_id=job_id)
    assert tasks.run_export.run(job_id=job_id) == "skipped"  # a second delivery does nothing

    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.progress, job.rows_total, job.rows_done) == ("done", 100, 5, 5)
    polled = api(manager).get(f"/api/v1/kpis/exports/{job_id}/").json()
    assert polled["progress"] == 100
    client = Client()
    client.force_login(manager)
    download = client.get(polled["download_url"])
    text = b"".join(download.streaming_content).decode()
    assert download.status_code == 200
    assert [line.split(",")[0] for line in text.strip().splitlines()[1:]] == sorted(
        (r.number for r in windows), reverse=True
    )


def test_progress_rises_while_the_file_is_written(api, manager, windows):
    response, _send = _ask(api, manager, kind="xlsx")
    job_id = response.json()["id"]
    percents = []
    real = services.export_file_write

    def watching(**kwargs):
        report = kwargs["on_progress"]

        def on_progress(done):
            report(done)
            percents.append(ExportJob.objects.get(pk=job_id).progress)

        return real(**{**kwargs, "on_progress": on_progress})

    with (
        mock.patch.object(services, "PROGRESS_EVERY", 2),
        mock.patch.object(services, "export_file_write", watching),
    ):
        tasks.run_export.run(job_id=job_id)

    assert percents == [40, 80, 99]  # 2, 4 and 5 of 5 rows; 100 once the file is stored
    assert ExportJob.objects.get(pk=job_id).progress == 100


def test_another_manager_neither_polls_nor_downloads_someone_elses_export(
    api, manager, tenant, other_tenant, windows
):
    response, _send = _ask(api, manager)
    job_id = response.json()["id"]
    tasks.run_export.run(job_id=job_id)
    colleague = UserFactory(tenant=tenant, role="manager")
    stranger = UserFactory(tenant=other_tenant, role="manager")

    for user in (colleague, stranger):
        assert api(user).get(f"/api/v1/kpis/exports/{job_id}/").status_code == 404
        client = Client()
        client.force_login(user)
        assert client.get(f"/reports/exports/{job_id}/download/").status_code == 404


def test_a_failed_export_says_so(api, manager, windows):
    response, _send = _ask(api, manager)
    job_id = response.json()["id"]

    broken = mock.patch.object(services, "export_file_write", side_effect=OSError("disk full"))
    with broken, pytest.raises(OSError):
        tasks.run_export.run(job_id=job_id)

    polled = api(manager).get(f"/api/v1/kpis/exports/{job_id}/").json()
    assert (polled["status"], polled["error"]) == ("failed", "disk full")


def _age(job_id, **moved):
    ExportJob.objects.filter(pk=job_id).update(**moved)


def _reconcile():
    with mock.patch.object(tasks.run_export, "delay") as delay:
        outcome = tasks.reconcile_exports.run()
    return outcome, [call.kwargs["job_id"] for call in delay.call_args_list]


def test_an_export_whose_message_was_lost_is_sent_again_by_the_reconciler(api, manager, windows):
    job_id = _ask(api, manager)[0].json()["id"]  # the message never reached a worker
    assert _reconcile()[1] == []  # just asked: its message may still be on its way

    _age(job_id, created_at=timezone.now() - timedelta(minutes=5))
    outcome, sent = _reconcile()
    assert sent == [job_id] and outcome == {"redriven": 1, "failed": 0}

    tasks.run_export.run(job_id=job_id)
    assert ExportJob.objects.get(pk=job_id).status == "done"
    assert _reconcile()[1] == []  # done: nothing left to re-drive


def test_an_export_whose_worker_died_is_claimed_again(api, manager, windows):
    job_id = _ask(api, manager)[0].json()["id"]
    assert services.export_job_claim(job_id=job_id) is not None  # a worker took it, then died
    assert _reconcile()[1] == []  # still heard of recently: that worker may be alive

    _age(job_id, updated_at=timezone.now() - timedelta(minutes=11))
    assert _reconcile()[1] == [job_id]
    tasks.run_export.run(job_id=job_id)

    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.rows_done) == ("done", 2, 5)


def test_an_export_that_keeps_stopping_its_worker_fails_instead_of_looping(api, manager, windows):
    job_id = _ask(api, manager)[0].json()["id"]
    _age(
        job_id,
        status="running",
        attempts=services.EXPORT_MAX_ATTEMPTS,
        updated_at=timezone.now() - timedelta(minutes=11),
    )

    outcome, sent = _reconcile()

    job = ExportJob.objects.get(pk=job_id)
    assert sent == [] and outcome == {"redriven": 0, "failed": 1}
    assert job.status == "failed" and job.error
    polled = api(manager).get(f"/api/v1/kpis/exports/{job_id}/").json()
    assert polled["status"] == "failed"


def test_the_export_reconciler_runs_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["kpi-export-reconcile"]
    assert entry["task"] == "reports.tasks.reconcile_exports"
