import pytest
from django.core.management import call_command

from accounts.models import Role, Tenant, User
from requests_app.models import ServiceRequest
from technicians.models import Shift, Technician, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True  # the command refuses to create demo passwords in production


def test_the_demo_refuses_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_the_demo_has_two_tenants_forty_technicians_and_three_hundred_requests():
    call_command("seed_demo")

    assert Tenant.objects.count() == 2
    assert Technician.objects.count() == 40
    # And six of yesterday's, completed, whose customers answered surveys (per tenant).
    assert ServiceRequest.objects.exclude(status="completed").count() == 300
    assert ServiceRequest.objects.filter(kind="emergency").exists()
    assert not ServiceRequest.objects.filter(kind="planned", window_start__isnull=True).exists()
    assert Visit.objects.exists()
    roles = set(User.objects.exclude(tenant=None).values_list("role", flat=True))
    assert roles == set(Role.values)  # and platform staff, of no client and no role
    assert Shift.objects.values("technician").distinct().count() == 40


def test_seeding_again_only_tops_up_shifts():
    call_command("seed_demo")
    Shift.objects.all().delete()

    call_command("seed_demo", "--if-empty")

    assert ServiceRequest.objects.exclude(status="completed").count() == 300
    assert Shift.objects.values("technician").distinct().count() == 40


def test_the_demo_operator_answers_for_both_clients_by_their_numbers():
    from accounts.models import ContactPoint

    call_command("seed_demo")

    operator = User.objects.get(username="operator")
    assert operator.clients.filter(slug="beta-networks").exists()
    assert ContactPoint.objects.filter(kind="phone").count() == 2


def test_the_demo_offers_windows_a_week_ahead():
    from datetime import timedelta

    from django.utils import timezone

    from intake.windows import offers_for
    from tests.factories import ALMATY

    call_command("seed_demo")

    tenant = Tenant.objects.get(slug="almaty-telecom")
    offers = offers_for(tenant, point=ALMATY, minutes=60)
    last_day = timezone.localdate(max(o.start for o in offers), tenant.zone)
    assert last_day >= timezone.localdate(timezone=tenant.zone) + timedelta(days=6)


def test_the_demo_admin_of_a_client_is_no_superuser_and_platform_staff_have_no_client():
    call_command("seed_demo")

    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser and admin.tenant is not None
    platform = User.objects.get(username="platform")
    assert platform.is_superuser and platform.tenant is None


def test_the_demo_has_surveys_from_several_channels_and_an_open_follow_up():
    from surveys.models import Audit, Call, FollowUpCase, KioskDevice, Response

    call_command("seed_demo")

    channels = set(Response.objects.values_list("channel", flat=True))
    assert {"link", "kiosk"} <= channels
    assert FollowUpCase.objects.filter(status="open").count() == 2  # one per tenant
    assert KioskDevice.objects.count() == 2 and Call.objects.exists() and Audit.objects.exists()
