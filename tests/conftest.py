"""The shared cast: one user per permission boundary, in two tenants."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from accounts.models import Role
from core import tenancy
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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """The test database is made and migrated as its owner: until it is, no connection takes
    the application role (importing config.asgi, as socket tests do, asks for it)."""
    connection_created.disconnect(dispatch_uid=tenancy.RECEIVER_UID)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite works as the application role, under row-level security, like the web,
    socket and worker processes. Its fixtures write every tenant's rows, so its connections
    rest in every tenant's scope; a request still runs in its user's scope. TransactionTestCase
    empties the tables between tests, which the application role may not do elsewhere."""
    role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')
        connection.close()
    tenancy.app_role_enable()
    tenancy.connect_receiver()
    tenancy.resting_scope_set(tenancy.EVERY_TENANT)
    connection_created.connect(_rest_in_every_tenant, dispatch_uid="tests-every-tenant")


def _rest_in_every_tenant(sender, connection, **kwargs) -> None:
    if connection.alias == "default":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [tenancy.SETTING, "*"])
