"""The shared cast: one user per permission boundary, in two tenants."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import CustomerFactory, SkillFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Almaty Telecom", slug="almaty-telecom")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Beta Networks", slug="beta-networks")


def pytest_configure():
    # Threads of async tests (database_sync_to_async) then close their connections after each
    # call, so no session is left open when the test database is dropped.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def _user(tenant, role, username):
    return UserFactory(username=username, tenant=tenant, role=role)


@pytest.fixture
def dispatcher(tenant):
    return _user(tenant, Role.DISPATCHER, "dispatcher")


@pytest.fixture
def manager(tenant):
    return _user(tenant, Role.MANAGER, "manager")


@pytest.fixture
def operator(tenant):
    return _user(tenant, Role.OPERATOR, "operator")


@pytest.fixture
def technician(tenant):
    from tests.factories import TechnicianFactory

    return TechnicianFactory(tenant=tenant, user__username="tech")


@pytest.fixture
def other_technician(tenant):
    from tests.factories import TechnicianFactory

    return TechnicianFactory(tenant=tenant, user__username="tech2", home_lat=43.30)


@pytest.fixture
def other_dispatcher(other_tenant):
    """A dispatcher of another tenant: must never see the first tenant's data."""
    return _user(other_tenant, Role.DISPATCHER, "beta-dispatcher")


@pytest.fixture
def customer(tenant):
    return CustomerFactory(tenant=tenant)


@pytest.fixture
def fiber(tenant):
    return SkillFactory(tenant=tenant, code="fiber", name="Fibre")


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def default_language():
    """A request in Russian or Kazakh leaves that language active in the thread: the next test
    starts from the default again."""
    yield
    from django.utils import translation

    translation.deactivate()
