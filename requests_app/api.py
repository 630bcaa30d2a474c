"""REST API v1 for service requests: validate → call the service → serialize."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import DISPATCH_ROLES, INTAKE_ROLES, STAFF_ROLES, HasRole
from core.api import TenantScoped, error_responses
from core.drf import IsoDateTimeFilter
from dispatch.models import Decision
from dispatch.rules import assignment_problems
from requests_app.booking import (
    request_cancel,
    request_create,
    request_escalate,
    request_offer_window,
    request_release,
    request_reschedule,
    request_update,
)
from requests_app.idempotency import HEADER as IDEMPOTENCY_HEADER
from requests_app.idempotency import idempotent
from requests_app.models import ServiceRequest
from requests_app.selectors import get_request_for_user, requests_for_user, with_active_visit
from requests_app.serializers import (
    AssignCheckSerializer,
    AssignTargetSerializer,
    CancelSerializer,
    DecisionSerializer,
    EscalateSerializer,
    ManualAssignSerializer,
    OfferWindowSerializer,
    ReleaseSerializer,
    RequestCreateSerializer,
    RequestSerializer,
    RequestUpdateSerializer,
    RescheduleSerializer,
    RulesBrokenSerializer,
)
from technicians.services import request_assign_manually

# A change to one request answers with the request as it is after the change; 409 also when
# the `version` given is not the request's (code `stale`, with the request as it is now).
CHANGED = {
    200: RequestSerializer,
    **error_responses(400, 404, 415),
    409: OpenApiResponse(
        RulesBrokenSerializer,
        description=_(
            "The current state does not allow it; `stale`: the request changed since "
            "`version` (`current` is it now); `rules`: planning rules are broken (`problems`), "
            "send `confirm` to assign anyway."
        ),
    ),
}


class RequestFilter(django_filters.FilterSet):
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ServiceRequest
        fields = ["status", "kind", "category", "channel", "priority"]


@extend_schema_view(
    list=extend_schema(responses={200: RequestSerializer, **error_responses(400)}),
    retrieve=extend_schema(responses={200: RequestSerializer, **error_responses(404)}),
)
class RequestViewSet(
    TenantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Service requests of the caller's tenant. A planned request with a window is booked
    against real capacity (409 when the window is full: ask `/windows/` again)."""

    serializer_class = RequestSerializer
    filterset_class = RequestFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"  # ids are numbers; anything else is no route (404)

    def get_permissions(self):
        if self.action in ("create", "partial_update", "cancel", "reschedule"):
            return [IsAuthenticated(), HasRole.of(*INTAKE_ROLES)()]
        if self.action == "decisions":
            return [IsAuthenticated(), HasRole.of(*STAFF_ROLES)()]
        if self.action in ("assign", "release", "assign_check", "escalate", "offer_window"):
            return [IsAuthenticated(), HasRole.of(*DISPATCH_ROLES)()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return with_active_visit(requests_for_user(self.request.user)).order_by("-created_at")

    def get_object(self):
        return get_request_for_user(self.request.user, self.kwargs["pk"])

    def _answer(self) -> Response:
        """The request as it is now, read again after the change."""
        return Response(RequestSerializer(self.get_object()).data)

    @extend_schema(
        request=RequestCreateSerializer,
        responses={
            201: RequestSerializer,
            200: OpenApiResponse(
                RequestSerializer,
                description=_(
                    "The customer's open emergency at the same place: the report joined it "
                    "(its `reports` counts them); nothing new was created."
                ),
            ),
            **error_responses(400, 409, 415, 422),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description=_("Retries with the same key return the first answer."),
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        tenant = request.user.tenant
        return idempotent(request, tenant=tenant, create=lambda: self._create(request, tenant))

    def _create(self, request, tenant) -> Response:
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
        # Answered from the request in hand: it comes back with its live visit attached.
        body = RequestSerializer(created).data
        # A report that joined an open emergency created nothing: 200 with that request.
        answer = status.HTTP_200_OK if created.joined else status.HTTP_201_CREATED
        return Response(body, status=answer)

    @extend_schema(request=RequestUpdateSerializer, responses=CHANGED)
    def partial_update(self, request, pk=None):
        service_request = self.get_object()
        serializer = RequestUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_update(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()

    @extend_schema(request=RescheduleSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move the agreed window (booked against capacity; 409 when it is full)."""
        service_request = self.get_object()
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        request_reschedule(
            service_request=service_request,
            window=(data["window_start"], data["window_end"]),
            actor=request.user,
            reason=data["reason"],
            version=data.get("version"),
        )
        return self._answer()

    @extend_schema(request=CancelSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        service_request = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_cancel(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()

    @extend_schema(responses={200: DecisionSerializer(many=True), **error_responses(404)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def decisions(self, request, pk=None):
        """Why the engine chose (or could not choose) a technician for this request."""
        service_request = self.get_object()
        rows = Decision.objects.for_tenant(request.user.tenant_id).filter(request=service_request)
        return Response(DecisionSerializer(rows, many=True).data)

    @extend_schema(request=ManualAssignSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Manual override: this technician, at this time, pinned. Checked against the planning
        rules first (409 `rules` with the problems unless `confirm` is true)."""
        service_request = self.get_object()
        serializer = ManualAssignSerializer(data=request.data, tenant=request.user.tenant)
        serializer.is_valid(raise_exception=True)
        request_assign_manually(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()

    @extend_schema(request=ReleaseSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Let the engine plan a request held since a dispatcher unassigned it (409 when it is
        not held)."""
        service_request = self.get_object()
        serializer = ReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_release(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()

    @extend_schema(request=OfferWindowSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"], url_path="offer-window")
    def offer_window(self, request, pk=None):
        """Send the customer their link to pick another arrival window; the agreed one holds
        until they do (409 when the customer can no longer change it, or cannot be reached)."""
        service_request = self.get_object()
        serializer = OfferWindowSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_offer_window(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()

    @extend_schema(
        request=AssignTargetSerializer,
        responses={200: AssignCheckSerializer, **error_responses(400, 404, 415)},
    )
    @action(detail=True, methods=["post"], url_path="assign/check")
    def assign_check(self, request, pk=None):
        """Which planning rules putting the request on this technician at this time would
        break (the board asks while a card is dragged); changes nothing."""
        service_request = self.get_object()
        serializer = AssignTargetSerializer(data=request.data, tenant=request.user.tenant)
        serializer.is_valid(raise_exception=True)
        problems = assignment_problems(request=service_request, **serializer.validated_data)
        return Response({"problems": [problem.as_dict() for problem in problems]})

    @extend_schema(request=EscalateSerializer, responses=CHANGED)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Escalate an open request without a visit (a person must handle it), or take it off
        the escalated list: back to new, planned by the engine (409 when not allowed)."""
        service_request = self.get_object()
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_escalate(
            service_request=service_request, actor=request.user, **serializer.validated_data
        )
        return self._answer()
