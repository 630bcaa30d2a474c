"""The product's URLs plus the bare baselines of the benchmarks.

`POST /bench/bare/` (`bench.emergency_loop`) is the smallest "write + push after commit" path the
stack can take: token auth, one validated field, one `Event` row through `event_emit` inside a
transaction, pushed to the dispatchers' group after commit. No service request, no Celery, no
assignment. The time from that POST to the event on a dispatcher's socket is what the product
loop is compared with.

`POST /bench/bare/customers/` (`bench.intake`) is the smallest DRF create: the product's
authentication and permission, a plain `Serializer` validating a few fields, one `Customer` row
inserted in a transaction, 201 with the row. No idempotency, no window, no event. The product's
`POST /api/v1/requests/` is compared with it.

`GET /bench/bare/list/` (`bench.board`) is the smallest authenticated DRF read: the board API's
authentication (a session) and permission, a fixed list of ten small rows, no query of its own.
The board's first data (`/board/`, its queue and its timeline) is compared with it.
"""

from django.db import transaction
from django.urls import path
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import INTAKE_ROLES, STAFF_ROLES, HasRole
from config.urls import urlpatterns as product_urlpatterns
from core.api import TenantScoped
from core.events import event_emit
from requests_app.models import Customer

BARE_KIND = "bench.bare"


class BareInput(serializers.Serializer):
    marker = serializers.CharField(max_length=64)


class BareEventView(TenantScoped, APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request):
        data = BareInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            event = event_emit(
                tenant_id=request.user.tenant_id,
                kind=BARE_KIND,
                payload={"marker": data.validated_data["marker"]},
            )
        return Response({"seq": event.seq}, status=status.HTTP_201_CREATED)


class BareCustomerInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32, allow_blank=True, default="")
    address = serializers.CharField(max_length=300, allow_blank=True, default="")
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)


class BareCustomerCreateView(TenantScoped, APIView):
    # The product create's authentication (the default classes) and permission.
    permission_classes = [IsAuthenticated, HasRole.of(*INTAKE_ROLES)]

    def post(self, request):
        data = BareCustomerInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            customer = Customer.objects.create(
                tenant_id=request.user.tenant_id, **data.validated_data
            )
        return Response({"id": customer.pk, **data.validated_data}, status=status.HTTP_201_CREATED)


BARE_ROWS = [{"id": n, "number": f"SR-{n:06d}", "status": "new"} for n in range(1, 11)]


class BareListView(TenantScoped, APIView):
    # The board API's authentication (the default classes) and permission.
    permission_classes = [IsAuthenticated, HasRole.of(*STAFF_ROLES)]

    def get(self, request):
        return Response({"count": len(BARE_ROWS), "results": BARE_ROWS})


urlpatterns = [
    *product_urlpatterns,
    path("bench/bare/", BareEventView.as_view(), name="bench-bare"),
    path("bench/bare/customers/", BareCustomerCreateView.as_view(), name="bench-bare-customers"),
    path("bench/bare/list/", BareListView.as_view(), name="bench-bare-list"),
]
