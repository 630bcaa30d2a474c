"""REST API for visits: the technician's status flow (the phone view posts here) and the
dispatcher's pin and unassign."""

from collections.abc import Callable

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import DISPATCH_ROLES, HasRole
from core.api import TenantScoped, error_responses
from requests_app.serializers import (
    PinSerializer,
    UnassignSerializer,
    VisitSummarySerializer,
    VisitTransitionSerializer,
)
from technicians.models import Visit
from technicians.selectors import get_visit_for_user
from technicians.services import visit_pin, visit_transition, visit_unassign


def _documented(serializer):
    return extend_schema_view(
        post=extend_schema(
            request=serializer,
            responses={200: VisitSummarySerializer, **error_responses(400, 404, 409, 415)},
        )
    )


class VisitActionView(TenantScoped, APIView):
    """One action on one visit: look it up for the user, validate, call the service, answer."""

    input_serializer: type[Serializer]
    service: Callable[..., Visit]

    def post(self, request, pk: int):
        visit = get_visit_for_user(request.user, pk)
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = type(self).service(visit=visit, actor=request.user, **serializer.validated_data)
        return Response(VisitSummarySerializer(visit).data)


@_documented(VisitTransitionSerializer)
class VisitTransitionView(VisitActionView):
    permission_classes = [IsAuthenticated, HasRole.of(Role.TECHNICIAN, *DISPATCH_ROLES)]
    input_serializer = VisitTransitionSerializer
    service = staticmethod(visit_transition)


@_documented(PinSerializer)
class VisitPinView(VisitActionView):
    permission_classes = [IsAuthenticated, HasRole.of(*DISPATCH_ROLES)]
    input_serializer = PinSerializer
    service = staticmethod(visit_pin)


@_documented(UnassignSerializer)
class VisitUnassignView(VisitActionView):
    permission_classes = [IsAuthenticated, HasRole.of(*DISPATCH_ROLES)]
    input_serializer = UnassignSerializer
    service = staticmethod(visit_unassign)
