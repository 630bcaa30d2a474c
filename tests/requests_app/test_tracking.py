"""Customer links and request numbers say nothing about other requests, and links expire."""

import base64
import time
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import caches

from requests_app.tracking import SALT, tracking_token
from tests.factories import RequestFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_request_numbers_count_per_client(tenant, other_tenant):
    numbers = [RequestFactory(tenant=t).number for t in (tenant, other_tenant, tenant, tenant)]

    assert numbers == ["SR-000001", "SR-000001", "SR-000002", "SR-000003"]


def test_a_new_client_starts_at_one_whatever_the_others_have(tenant):
    for _ in range(5):
        RequestFactory(tenant=tenant)

    assert RequestFactory(tenant=TenantFactory()).number == "SR-000001"


def test_a_tracking_link_names_a_random_key_and_no_id(tenant):
    request = RequestFactory(tenant=tenant)
    token = tracking_token(request)

    payload = token.split(":")[0]
    readable = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert readable == f'"{request.tracking_key}"'
    assert len(request.tracking_key) >= 22  # 128 bits
    assert RequestFactory(tenant=tenant).tracking_key != request.tracking_key


def test_an_expired_tracking_link_says_so_and_whom_to_ask(client, tenant, settings):
    settings.TRACKING_LINK_DAYS = 45
    request = RequestFactory(tenant=tenant)
    long_ago = time.time() - 46 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = tracking_token(request)

    response = client.get(f"/t/{token}/")

    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page and request.number in page


def test_a_link_signed_for_something_else_opens_nothing(client, tenant):
    request = RequestFactory(tenant=tenant)
    forged = signing.dumps({"r": request.pk, "t": tenant.pk}, salt=SALT)

    assert client.get(f"/t/{forged}/").status_code == 404


def test_reading_tracking_links_is_rate_limited(client, tenant, settings):
    settings.RATELIMIT_ENABLE, settings.PORTAL_RATE = True, "3/m"
    caches["ratelimit"].clear()
    token = tracking_token(RequestFactory(tenant=tenant))

    statuses = [client.get(f"/t/{token}/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
