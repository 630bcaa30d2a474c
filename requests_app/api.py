"""REST API v1 for service requests: validate → call the service → serialize."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import DISPATCH_ROLES, INTAKE_ROLES, STAFF_ROLES, HasRole
from dispatch.models import Decision
from requests_app.models import ServiceRequest
from requests_app.selectors import get_request_for_user, requests_for_user, with_active_visit
from requests_app.serializers import (
    ManualAssignSerializer,
    RequestCreateSerializer,
    RequestSerializer,
)
from requests_app.services import request_create
from technicians.services import request_assign_manually


class RequestFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ServiceRequest
        fields = ["status", "kind", "category", "channel", "priority"]


class RequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RequestSerializer
    filterset_class = RequestFilter

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), HasRole.of(*INTAKE_ROLES)()]
        if self.action == "decisions":
            return [IsAuthenticated(), HasRole.of(*STAFF_ROLES)()]
        if self.action == "assign":
            return [IsAuthenticated(), HasRole.of(*DISPATCH_ROLES)()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return with_active_visit(requests_for_user(self.request.user)).order_by("-created_at")

    def get_object(self):
        return get_request_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(request=RequestCreateSerializer, responses={201: RequestSerializer})
    def create(self, request, *args, **kwargs):
        tenant = request.user.tenant
        serializer = RequestCreateSerializer(data=request.data, tenant=tenant)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        window = (data["window_start"], data["window_end"]) if "window_start" in data else None
        created = request_create(
            tenant=tenant,
            customer=data["customer"],
            kind=data["kind"],
            category=data["category"],
            channel=data["channel"],
            description=data["description"],
            lat=data.get("lat"),
            lon=data.get("lon"),
            address=data["address"],
            skills=data.get("required_skills", []),
            estimated_minutes=data["estimated_minutes"],
            window=window,
            priority=data.get("priority"),
            actor=request.user,
        )
        body = RequestSerializer(get_request_for_user(request.user, created.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def decisions(self, request, pk=None):
        """Why the engine chose (or could not choose) a technician for this request."""
        service_request = get_request_for_user(request.user, pk)
        rows = Decision.objects.for_tenant(request.user.tenant_id).filter(request=service_request)
        return Response(
            [
                {
                    "at": row.created_at,
                    "policy": row.policy,
                    "outcome": row.outcome,
                    "technician_id": row.technician_id,
                    "candidates": row.candidates,
                    "excluded": row.excluded,
                }
                for row in rows
            ]
        )

    @extend_schema(request=ManualAssignSerializer, responses={200: RequestSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Manual override: this technician, at this time, pinned."""
        service_request = get_request_for_user(request.user, pk)
        serializer = ManualAssignSerializer(data=request.data, tenant=request.user.tenant)
        serializer.is_valid(raise_exception=True)
        request_assign_manually(
            request=service_request, actor=request.user, **serializer.validated_data
        )
        return Response(RequestSerializer(get_request_for_user(request.user, pk)).data)
