"""The technician's phone API: the day, the queued actions, the position en route, consent.
Thin: validate → selector or service → answer."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from core.api import TenantScoped, error_responses
from fieldwork.models import VisitPhoto
from fieldwork.selectors import technician_day
from fieldwork.services import KINDS, actions_apply, location_record, technician_consent_set
from technicians.models import Visit
from technicians.selectors import get_visit_for_user, technician_for_user
from technicians.services import VISIT_FLOW

MAX_BATCH = 50


class PartLineSerializer(serializers.Serializer):
    part = serializers.SlugField(max_length=40)
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)


class ActionSerializer(serializers.Serializer):
    """One action the phone queued, named by its own id, stamped with the phone's time."""

    client_id = serializers.UUIDField(help_text=_("The phone's id for the action (a UUID)."))
    kind = serializers.ChoiceField(choices=KINDS)
    visit = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    at = serializers.DateTimeField(help_text=_("When it happened on the phone."))
    to = serializers.ChoiceField(choices=list(VISIT_FLOW), required=False)
    reason = serializers.ChoiceField(choices=Visit.Reason.choices, required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    confirm = serializers.BooleanField(default=False)
    why = serializers.CharField(max_length=300, required=False, allow_blank=True)
    resolution = serializers.CharField(max_length=40, required=False, allow_blank=True)
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=30, required=False
    )
    data = serializers.CharField(
        max_length=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        required=False,
        help_text=_("A photo or signature as a data URL."),
    )
    photo_kind = serializers.ChoiceField(choices=VisitPhoto.Kind.choices, required=False)
    signer = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parts = PartLineSerializer(many=True, required=False, max_length=50)


class ActionBatchSerializer(serializers.Serializer):
    actions = ActionSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class ActionBatchInput(serializers.Serializer):
    """The batch as read: each action is validated on its own, so one bad action is reported
    for itself and never blocks the others behind it."""

    actions = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=MAX_BATCH
    )


class ActionResultSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["applied", "duplicate", "conflict", "guard", "invalid", "pending"]
    )
    status = serializers.IntegerField(help_text=_("The HTTP status the action alone would get."))
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class ActionResultsSerializer(serializers.Serializer):
    results = ActionResultSerializer(many=True)


class LocationSerializer(serializers.Serializer):
    visit = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    accuracy = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class LocationAnswerSerializer(serializers.Serializer):
    stored = serializers.BooleanField()
    eta = serializers.DateTimeField()
    eta_minutes = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    near = serializers.BooleanField(help_text=_("Close enough to say “arrived”."))


class ConsentSerializer(serializers.Serializer):
    location = serializers.BooleanField()


TECHNICIAN = [IsAuthenticated, HasRole.of(Role.TECHNICIAN)]


class MyDayView(TenantScoped, APIView):
    permission_classes = TECHNICIAN

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=_("The day: shift, jobs with their details, parts, reason codes."),
            ),
            **error_responses(404),
        }
    )
    def get(self, request):
        technician = technician_for_user(request.user)
        return Response(technician_day(technician=technician, day=timezone.localdate()))


class MyActionsView(TenantScoped, APIView):
    """Replay the phone's queue: each action applied once, in order, with its own outcome."""

    permission_classes = TECHNICIAN

    @extend_schema(
        request=ActionBatchSerializer,
        responses={200: ActionResultsSerializer, **error_responses(400, 404, 415)},
    )
    def post(self, request):
        technician = technician_for_user(request.user)
        batch = ActionBatchInput(data=request.data)
        batch.is_valid(raise_exception=True)
        actions, invalid = [], {}
        for index, raw in enumerate(batch.validated_data["actions"]):
            action = ActionSerializer(data=raw)
            if action.is_valid():
                actions.append(action.validated_data)
            else:
                invalid[index] = {
                    "client_id": str(raw.get("client_id", "")),
                    "outcome": "invalid",
                    "status": 400,
                    "code": "invalid",
                    "detail": "; ".join(
                        f"{field}: {' '.join(map(str, errors))}"
                        if isinstance(errors, list)
                        else f"{field}: {errors}"
                        for field, errors in action.errors.items()
                    )[:500],
                }
                actions.append(None)
        results = []
        valid = [a for a in actions if a is not None]
        applied = iter(actions_apply(technician=technician, actions=valid, actor=request.user))
        for index, action in enumerate(actions):
            results.append(invalid[index] if action is None else next(applied, None))
        return Response({"results": [r for r in results if r is not None]})


class MyLocationView(TenantScoped, APIView):
    permission_classes = TECHNICIAN

    @extend_schema(
        request=LocationSerializer,
        responses={200: LocationAnswerSerializer, **error_responses(400, 404, 409, 415)},
    )
    def post(self, request):
        data = LocationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        technician = technician_for_user(request.user)
        visit = get_visit_for_user(request.user, data.validated_data["visit"])
        answer = location_record(
            technician=technician,
            visit=visit,
            lat=data.validated_data["lat"],
            lon=data.validated_data["lon"],
            accuracy=data.validated_data.get("accuracy"),
        )
        return Response(answer)


class MyConsentView(TenantScoped, APIView):
    permission_classes = TECHNICIAN

    @extend_schema(
        request=ConsentSerializer,
        responses={200: ConsentSerializer, **error_responses(400, 404, 415)},
    )
    def post(self, request):
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        technician = technician_consent_set(
            technician=technician_for_user(request.user),
            location=data.validated_data["location"],
        )
        return Response({"location": technician.location_consent})
