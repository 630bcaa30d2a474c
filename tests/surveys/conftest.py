"""What the survey tests share: a completed visit, the tenant's rules, a gateway that records."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from notifications.models import Notification
from requests_app.states import Status
from surveys import services
from surveys.models import SurveySettings
from technicians.models import Visit
from tests.factories import CustomerFactory, RequestFactory, TechnicianFactory


def completed_visit(tenant, *, customer=None, technician=None, created_by=None) -> Visit:
    customer = customer or CustomerFactory(tenant=tenant, phone="+77011234567")
    request = RequestFactory(
        tenant=tenant, customer=customer, status=Status.COMPLETED, created_by=created_by
    )
    now = timezone.now()
    return Visit.objects.create(
        tenant=tenant,
        request=request,
        technician=technician or TechnicianFactory(tenant=tenant),
        planned_start=now - timedelta(hours=2),
        planned_end=now - timedelta(hours=1),
        status=Visit.Status.COMPLETED,
        finished_at=now - timedelta(hours=1),
    )


def link_token(invitation) -> str:
    """The token of the link the customer was sent (only the message holds it)."""
    body = Notification.objects.get(dedupe_key=f"survey-invitation:{invitation.pk}").body
    return re.search(r"/s/([A-Za-z0-9_-]+)/", body).group(1)


@pytest.fixture
def rules(tenant):
    """Rules without quiet hours, so a test at any hour sends at once."""
    tenant.language = "en"
    tenant.save(update_fields=["language"])
    return SurveySettings.objects.create(tenant=tenant, quiet_start_hour=0, quiet_end_hour=0)


@pytest.fixture
def no_delivery():
    with mock.patch("notifications.tasks.deliver_notifications.delay"):
        yield


@pytest.fixture
def sent_link(tenant, rules, no_delivery, settings):
    """A completed visit whose customer was sent a link: (invitation, token)."""
    settings.RATELIMIT_ENABLE = False
    visit = completed_visit(tenant)
    invitation = services.invitation_after_visit(visit_id=visit.pk)
    return invitation, link_token(invitation)


# A full set of valid answers for the default after-visit questionnaire.
GOOD = {"q1": "5", "q2": "1", "q3": "10", "q4": "6", "q5": "Fast and polite"}
BAD = {"q1": "1", "q2": "0", "q3": "3", "q4": "2", "q5": "Still no internet"}
