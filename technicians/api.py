"""REST API for the technician's status flow (used by the mobile view, also offline replay)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import DISPATCH_ROLES, HasRole
from requests_app.serializers import (
    PinSerializer,
    UnassignSerializer,
    VisitSummarySerializer,
    VisitTransitionSerializer,
)
from technicians.selectors import get_visit_for_user
from technicians.services import visit_pin, visit_transition, visit_unassign


class VisitTransitionView(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(Role.TECHNICIAN, Role.DISPATCHER, Role.ADMIN)]

    @extend_schema(request=VisitTransitionSerializer, responses={200: VisitSummarySerializer})
    def post(self, request, pk: int):
        visit = get_visit_for_user(request.user, pk)
        serializer = VisitTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = visit_transition(visit=visit, actor=request.user, **serializer.validated_data)
        return Response(VisitSummarySerializer(visit).data)


class VisitPinView(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*DISPATCH_ROLES)]

    @extend_schema(request=PinSerializer, responses={200: VisitSummarySerializer})
    def post(self, request, pk: int):
        visit = get_visit_for_user(request.user, pk)
        serializer = PinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = visit_pin(visit=visit, actor=request.user, **serializer.validated_data)
        return Response(VisitSummarySerializer(visit).data)


class VisitUnassignView(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*DISPATCH_ROLES)]

    @extend_schema(request=UnassignSerializer, responses={200: VisitSummarySerializer})
    def post(self, request, pk: int):
        visit = get_visit_for_user(request.user, pk)
        serializer = UnassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = visit_unassign(visit=visit, actor=request.user, **serializer.validated_data)
        return Response(VisitSummarySerializer(visit).data)
