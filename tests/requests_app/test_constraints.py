"""The database itself refuses a request that is not at a place on Earth, whatever writes it."""

import pytest
from django.db import IntegrityError

from requests_app.models import ServiceRequest
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "coordinates",
    [{"lat": float("nan")}, {"lon": float("nan")}, {"lat": 90.5}, {"lon": float("-inf")}],
    ids=["lat NaN", "lon NaN", "lat past the pole", "lon minus infinity"],
)
def test_a_request_whose_coordinates_are_not_a_place_is_refused_by_postgresql(tenant, coordinates):
    request = RequestFactory(tenant=tenant)

    with pytest.raises(IntegrityError):
        ServiceRequest.objects.filter(pk=request.pk).update(**coordinates)


def test_a_request_at_the_edges_of_the_map_is_kept(tenant):
    request = RequestFactory(tenant=tenant)

    assert ServiceRequest.objects.filter(pk=request.pk).update(lat=-90, lon=180) == 1
