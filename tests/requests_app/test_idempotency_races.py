"""Concurrent retries with one Idempotency-Key, on real PostgreSQL transactions."""

import pytest
from rest_framework.test import APIClient

from requests_app.models import ServiceRequest
from tests.dispatch.test_concurrency import in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_retries_with_one_key_create_one_request(operator, customer):
    body = {"kind": "emergency", "category": "outage", "customer": customer.pk}

    def post(_):
        client = APIClient()
        client.force_authenticate(operator)
        response = client.post(
            "/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm"
        )
        return response.status_code, response.json()["id"]

    answers = in_threads(post, range(8), workers=8)

    assert {status for status, _ in answers} == {201}
    assert len({request_id for _, request_id in answers}) == 1
    assert ServiceRequest.objects.count() == 1
