"""Factories for everything outside the shared cast of users."""

from datetime import timedelta
from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Role, Tenant, User
from reports.models import ExportJob
from requests_app.models import Customer, ServiceRequest
from surveys.models import FollowUpCase, Response
from technicians.models import Shift, Skill, Technician

ALMATY = (43.2380, 76.8890)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Client {n}")
    slug = factory.Sequence(lambda n: f"client-{n}")


PASSWORD = "pw-for-tests-1"


@cache
def password_hash() -> str:
    return make_password(PASSWORD)  # hashed once: PBKDF2 is slow on purpose


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    tenant = factory.SubFactory(TenantFactory)
    role = Role.DISPATCHER
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Person"
    password = factory.LazyFunction(password_hash)


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"skill{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    phone = factory.Sequence(lambda n: f"+7701{n:07d}")
    address = "Abay Ave 10, Almaty"
    lat, lon = ALMATY


class TechnicianFactory(factory.django.DjangoModelFactory):
    """A technician on shift now (a shift from an hour ago to eight hours ahead)."""

    class Meta:
        model = Technician
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(
        UserFactory, tenant=factory.SelfAttribute("..tenant"), role=Role.TECHNICIAN
    )
    home_lat, home_lon = ALMATY

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)

    @factory.post_generation
    def on_shift(self, create, extracted, **kwargs):
        if create and extracted is not False:
            now = timezone.now()
            Shift.objects.create(
                tenant=self.tenant,
                technician=self,
                date=timezone.localdate(),
                start=now - timedelta(hours=1),
                end=now + timedelta(hours=8),
            )


class RequestFactory(factory.django.DjangoModelFactory):
    """A request row written directly; use `request_create` when the behaviour matters."""

    class Meta:
        model = ServiceRequest

    tenant = factory.SubFactory(TenantFactory)
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = ServiceRequest.Kind.PLANNED
    category = ServiceRequest.Category.REPAIR
    channel = ServiceRequest.Channel.API
    lat, lon = ALMATY
    estimated_minutes = 60


def follow_up_case(tenant):
    """An open follow-up case on a low link answer about a request of the tenant."""
    request = RequestFactory(tenant=tenant)
    response = Response.objects.create(
        tenant=tenant, channel="link", request=request, csat=1, submitted_at=timezone.now()
    )
    return FollowUpCase.objects.create(
        tenant=tenant,
        response=response,
        request=request,
        reason="satisfaction 1 of 5",
        due_at=timezone.now() + timedelta(hours=24),
    )


def export_job(tenant):
    """A KPI export of the tenant, waiting, asked for by one of its managers."""
    manager = UserFactory(tenant=tenant, role=Role.MANAGER)
    query = {"kpi": "backlog", "part": "all", "start": "2026-11-01", "end": "2026-11-30"}
    return ExportJob.objects.create(tenant=tenant, requested_by=manager, kind="csv", query=query)
