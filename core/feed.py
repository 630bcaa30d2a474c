"""HTTP catch-up for live screens: events after a sequence number, from PostgreSQL."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Tenant
from accounts.permissions import STAFF_ROLES, HasRole
from core.api import TenantScoped, error_responses
from core.models import Event

PAGE = 500


class FeedQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)


class EventSerializer(serializers.Serializer):
    """An event as live screens receive it on the socket."""

    seq = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    data = serializers.DictField()


class FeedSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    last_seq = serializers.IntegerField(help_text="The tenant's latest sequence number.")
    complete = serializers.BooleanField(help_text="False: ask again after the last event.")


class EventFeedView(TenantScoped, APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*STAFF_ROLES)]

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Last sequence number seen.")],
        responses={200: FeedSerializer, **error_responses(400)},
    )
    def get(self, request):
        query = FeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        tenant_id = request.user.tenant_id
        events = list(
            Event.objects.for_tenant(tenant_id)
            .filter(seq__gt=query.validated_data["after"])
            .order_by("seq")[:PAGE]
        )
        last_seq = Tenant.objects.values_list("event_seq", flat=True).get(pk=tenant_id)
        return Response(
            {
                "events": [event.as_message() for event in events],
                "last_seq": last_seq,
                "complete": len(events) < PAGE,
            }
        )
