"""The product's URLs plus the bare baseline of `bench.emergency_loop`.

`POST /bench/bare/` is the smallest "write + push after commit" path the stack can take: token
auth, one validated field, one `Event` row through `event_emit` inside a transaction, pushed to
the dispatchers' group after commit. No service request, no Celery, no assignment. The time from
that POST to the event on a dispatcher's socket is what the product loop is compared with.
"""

from django.db import transaction
from django.urls import path
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.events import event_emit
from dispatch.urls import urlpatterns as product_urlpatterns

BARE_KIND = "bench.bare"


class BareInput(serializers.Serializer):
    marker = serializers.CharField(max_length=64)


class BareEventView(APIView):
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


urlpatterns = [
    *product_urlpatterns,
    path("bench/bare/", BareEventView.as_view(), name="bench-bare"),
]
