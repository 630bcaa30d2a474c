"""Tenant isolation in the database: row-level security on every tenant table, for a role that
cannot bypass it, and the scope each way in sets (core.tenancy)."""

from unittest import mock

import pytest
from django.db import InterfaceError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from knox.models import AuthToken
from rest_framework.views import APIView

from accounts.models import ContactPoint, Role
from config.celery import task
from core import tenancy
from core.api import TenantScoped
from intake.contacts import tenant_for_contact
from requests_app.models import ServiceRequest, StatusChange
from requests_app.tracking import request_for_token, tracking_token
from tests.factories import RequestFactory, UserFactory

pytestmark = pytest.mark.django_db

# Tables with a tenant column that stay outside row-level security, and why.
EXEMPT = {
    "accounts_user": "a session reads its user to learn its scope",
    "accounts_user_clients": "the clients a user answers for are part of that scope",
}


def tables_with_a_tenant_column() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )
        return {row[0] for row in cursor.fetchall()}


def count(table: str) -> int:
    """Rows of a table as raw SQL sees them: no tenant filter, as a forgotten one would be."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  (a fixed name)
        return cursor.fetchone()[0]


def scope() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [tenancy.SETTING])
        return cursor.fetchone()[0]


def test_every_table_with_a_tenant_column_forces_row_level_security_with_a_policy():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity "
            "AND EXISTS (SELECT FROM pg_policies p WHERE p.tablename = c.relname)"
        )
        protected = {row[0] for row in cursor.fetchall()}

    assert tables_with_a_tenant_column() - set(EXEMPT) == protected
    assert set(EXEMPT) <= tables_with_a_tenant_column()


def test_the_application_works_as_a_role_that_cannot_bypass_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [user],
        )
        owned = cursor.fetchone()[0]

    assert (user, superuser, bypass, owned) == ("dispatch_app", False, False, 0)


def test_without_a_tenant_scope_a_query_returns_no_rows_and_an_insert_is_refused(tenant):
    RequestFactory(tenant=tenant)

    with tenancy.tenant_scope(tenancy.NO_TENANT):
        assert count("requests_app_servicerequest") == 0
        assert not ServiceRequest.objects.exists()
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            RequestFactory(tenant=tenant)


def test_a_query_that_forgets_the_tenant_filter_sees_its_own_tenants_rows_only(
    tenant, other_tenant
):
    mine = RequestFactory(tenant=tenant)
    RequestFactory(tenant=other_tenant)

    with tenancy.tenant_scope([tenant.pk]):
        assert list(ServiceRequest.objects.all()) == [mine]
        assert count("requests_app_servicerequest") == 1
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            RequestFactory(tenant=other_tenant)

    assert count("requests_app_servicerequest") == 2  # the suite rests in every tenant


def test_the_audit_trail_is_append_only_for_the_application(tenant):
    request = RequestFactory(tenant=tenant)
    change = StatusChange.objects.create(
        tenant=tenant, request=request, from_status="", to_status="new"
    )

    for statement in (
        "UPDATE requests_app_statuschange SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM requests_app_statuschange WHERE id = %s",
    ):
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [change.pk])

    assert StatusChange.objects.filter(pk=change.pk).exists()


def test_a_users_scope_is_their_tenant_and_for_an_operator_the_clients_they_answer_for(
    tenant, other_tenant, technician
):
    operator = UserFactory(tenant=tenant, role=Role.OPERATOR, username="op")
    operator.clients.add(other_tenant)
    staff = UserFactory(tenant=None, role="", is_staff=True, username="platform-staff")

    tenancy.scope_set_for_user(technician.user)
    assert scope() == str(tenant.pk)
    tenancy.scope_set_for_user(operator)
    assert scope() == f"{tenant.pk},{other_tenant.pk}"
    tenancy.scope_set_for_user(staff)
    assert scope() == tenancy.EVERY_TENANT


def test_a_scope_is_restored_after_its_block_even_when_it_fails(tenant):
    tenancy.scope_set(str(tenant.pk))

    with pytest.raises(ZeroDivisionError), tenancy.every_tenant():
        assert scope() == tenancy.EVERY_TENANT
        1 / 0  # noqa: B018

    assert scope() == str(tenant.pk)


def test_a_failed_statement_inside_a_scope_leaves_the_transaction_to_roll_it_back(tenant):
    tenancy.scope_set(str(tenant.pk))

    with (
        pytest.raises(ProgrammingError),
        transaction.atomic(),
        tenancy.every_tenant(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table")

    assert scope() == str(tenant.pk)


def scopes_set(queries) -> list:
    """The scopes a request set, in order (the values given to set_config)."""
    return [
        query["sql"].split("set_config(")[1].split(",")[1].strip(" '")
        for query in queries
        if "set_config(" in query["sql"] and "concat_ws" not in query["sql"]
    ]


def test_a_page_works_in_the_users_scope_and_the_connection_rests_after(client, technician):
    client.force_login(technician.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tech/")

    assert response.status_code == 200
    assert scopes_set(queries) == [str(technician.tenant_id), tenancy.EVERY_TENANT]
    assert scope() == tenancy.EVERY_TENANT  # the suite's resting scope


def test_an_api_request_with_a_token_sees_the_tokens_tenant_only(client, dispatcher, other_tenant):
    _, token = AuthToken.objects.create(dispatcher)
    mine = RequestFactory(tenant=dispatcher.tenant)
    RequestFactory(tenant=other_tenant)

    response = client.get("/api/v1/requests/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_public_links_and_contact_points_are_found_across_tenants_from_no_scope(
    tenant, other_tenant
):
    ContactPoint.objects.create(tenant=other_tenant, kind="sms", address="7001")
    request = RequestFactory(tenant=other_tenant)

    with tenancy.tenant_scope(tenancy.NO_TENANT):
        assert tenant_for_contact("sms", "7001") == other_tenant
        assert request_for_token(tracking_token(request)) == request
        assert scope() == tenancy.NO_TENANT


def test_a_task_works_for_every_tenant(tenant, other_tenant):
    RequestFactory(tenant=tenant)
    RequestFactory(tenant=other_tenant)

    @task()
    def count_requests() -> int:
        return ServiceRequest.objects.count()

    with tenancy.tenant_scope(tenancy.NO_TENANT):
        assert count_requests() == 2
        assert scope() == tenancy.NO_TENANT


def api_views(patterns=None, found=None) -> set:
    """Every DRF view class the URLconf routes to."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    found = set() if found is None else found
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            api_views(pattern.url_patterns, found)
        elif isinstance(view := getattr(pattern.callback, "cls", None), type) and issubclass(
            view, APIView
        ):
            found.add(view)
    return found


def test_every_api_view_sets_its_users_tenant_scope_after_authentication():
    views = api_views()
    # The libraries' own views (the schema, the router's index) read no tenant's rows.
    ours = {view for view in views if not view.__module__.startswith(("drf_spectacular", "rest_"))}
    unscoped = {view.__name__ for view in ours if not issubclass(view, TenantScoped)}

    assert len(views) >= 5
    assert unscoped == set()


@pytest.mark.django_db(transaction=True)
def test_an_answer_stays_the_answer_when_the_connection_breaks_before_the_scope_is_put_back(
    client, technician
):
    client.force_login(technician.user)

    with mock.patch.object(tenancy, "scope_set", side_effect=InterfaceError("closed")):
        response = client.get("/tech/")

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_forgets_whose_scope_the_one_before_had(tenant, other_tenant):
    """After PostgreSQL restarts, the same user's next request must set its scope again on the
    new connection (it once found the old marker and set none: a 400 for a real customer)."""
    user = UserFactory(tenant=tenant, role=Role.DISPATCHER, username="disp")
    tenancy.scope_set_for_user(user)
    connection.close()

    tenancy.scope_set_for_user(user)

    assert scope() == str(tenant.pk)
