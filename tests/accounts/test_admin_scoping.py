"""A tenant's administrator runs the admin for their own client only; platform staff for all.
API tokens are kept as digests and shown once."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from accounts.models import Role, User
from requests_app.models import Customer
from tests.factories import CustomerFactory, RequestFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(username="almaty-admin", tenant=tenant, role=Role.ADMIN, is_staff=True)


@pytest.fixture
def platform_staff(db):
    return UserFactory(username="platform", tenant=None, role="", is_staff=True, is_superuser=True)


@pytest.fixture
def two_clients(tenant, other_tenant):
    return {
        "ours": CustomerFactory(tenant=tenant, name="Aigerim Ours"),
        "theirs": CustomerFactory(tenant=other_tenant, name="Bolat Theirs"),
        "our_skill": SkillFactory(tenant=tenant, name="Fibre ours"),
        "their_skill": SkillFactory(tenant=other_tenant, name="Copper theirs"),
        "their_request": RequestFactory(tenant=other_tenant),
    }


def test_a_tenant_admin_lists_only_their_own_clients_rows(client, tenant_admin, two_clients):
    client.force_login(tenant_admin)

    RequestFactory(tenant=tenant_admin.tenant)
    customers = client.get("/admin/requests_app/customer/").content.decode()
    requests = client.get("/admin/requests_app/servicerequest/")

    assert "Aigerim Ours" in customers and "Bolat Theirs" not in customers
    listed = requests.context["cl"].result_list
    assert {row.tenant_id for row in listed} == {tenant_admin.tenant_id}


def test_a_tenant_admin_cannot_open_another_clients_row(client, tenant_admin, two_clients):
    client.force_login(tenant_admin)
    theirs = two_clients["theirs"]

    response = client.get(f"/admin/requests_app/customer/{theirs.pk}/change/")

    assert response.status_code in (302, 404)
    assert "Bolat Theirs" not in response.content.decode()


def test_the_skill_picker_lists_only_the_admins_own_skills(client, tenant_admin, two_clients):
    client.force_login(tenant_admin)

    page = client.get("/admin/technicians/technician/add/").content.decode()

    assert "Fibre ours" in page and "Copper theirs" not in page


def test_a_row_added_by_a_tenant_admin_belongs_to_their_client(client, tenant_admin, tenant):
    client.force_login(tenant_admin)

    client.post(
        "/admin/requests_app/customer/add/",
        {"name": "New Person", "phone": "+77010000077", "email": "", "address": "Abay 1"},
    )

    assert Customer.objects.get(name="New Person").tenant == tenant


def test_a_tenant_admin_sees_no_api_tokens_nor_platform_tables(client, tenant_admin):
    client.force_login(tenant_admin)

    index = client.get("/admin/").content.decode()

    assert client.get("/admin/knox/authtoken/").status_code == 403
    assert "knox" not in index.lower() and "/admin/auth/group/" not in index


def test_a_tenant_admin_cannot_make_anyone_a_superuser(client, tenant_admin, dispatcher):
    client.force_login(tenant_admin)
    url = f"/admin/accounts/user/{dispatcher.pk}/change/"

    page = client.get(url).content.decode()
    client.post(
        url,
        {
            "username": "dispatcher",
            "first_name": "D",
            "last_name": "P",
            "email": "",
            "role": Role.DISPATCHER,
            "phone": "",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    assert 'name="is_superuser"' not in page
    dispatcher.refresh_from_db()
    assert not dispatcher.is_superuser and not dispatcher.is_staff


def test_platform_staff_see_every_client(client, platform_staff, two_clients):
    client.force_login(platform_staff)

    customers = client.get("/admin/requests_app/customer/").content.decode()

    assert "Aigerim Ours" in customers and "Bolat Theirs" in customers


def test_an_api_token_is_stored_as_a_digest_and_shown_once(dispatcher):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token_create", "dispatcher", stdout=out, stderr=err)
    token = out.getvalue().strip()

    stored = AuthToken.objects.get(user=dispatcher)
    assert len(token) >= 64
    assert token not in (stored.digest, stored.token_key)
    assert stored.expiry is not None
    assert "cannot be shown again" in err.getvalue()


def test_a_token_authenticates_and_a_wrong_one_is_a_401(api, dispatcher):
    _, token = AuthToken.objects.create(dispatcher)
    client = api()

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/requests/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token[:-4]}abcd")
    assert client.get("/api/v1/requests/").status_code == 401


def test_the_database_refuses_a_superuser_of_a_client(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="boss", tenant=tenant, role=Role.ADMIN, is_superuser=True)
