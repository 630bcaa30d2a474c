"""A technician's day for the phone's tests: a visit planned an hour from now in a window."""

import base64
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from technicians.models import Visit
from tests.factories import RequestFactory

# The smallest JPEG and PNG headers the server recognises (it checks the first bytes).
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def data_url(content: bytes, kind: str = "image/jpeg") -> str:
    return f"data:{kind};base64," + base64.b64encode(content).decode()


@pytest.fixture
def job(technician):
    """A planned job, its window open since an hour ago, the visit planned now."""
    now = timezone.now()
    request = RequestFactory(
        tenant=technician.tenant,
        status="assigned",
        window_start=now - timedelta(hours=1),
        window_end=now + timedelta(hours=2),
        address="Abay Ave 10, Almaty",
    )
    return Visit.objects.create(
        tenant=technician.tenant,
        request=request,
        technician=technician,
        planned_start=now,
        planned_end=now + timedelta(hours=1),
    )


def action(visit, kind="step", at=None, **fields) -> dict:
    return {
        "client_id": str(fields.pop("client_id", uuid.uuid4())),
        "kind": kind,
        "visit": visit.pk,
        "at": (at or timezone.now()).isoformat(),
        **fields,
    }


@pytest.fixture
def replay(api, technician):
    def send(*actions, user=None):
        client = api(user or technician.user)
        return client.post("/api/v1/me/actions/", {"actions": list(actions)}, format="json")

    return send
