"""REST API of the dispatcher board: the queue, the timeline and a request's drawer. Reads
only (the board's actions are the requests' and visits' own endpoints): validate the query →
call the board's selector → serialize."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import STAFF_ROLES, HasRole
from core.api import TenantScoped, error_responses
from dispatch.board import (
    NEEDS,
    QueueFilters,
    board_queue,
    board_request,
    board_timeline,
    queue_row,
    visit_is_at_risk,
    visit_is_late,
)
from requests_app.models import ServiceRequest
from requests_app.serializers import DecisionSerializer
from technicians.models import Technician, Visit
from technicians.roster_api import AbsenceSerializer, PositionSerializer, ShiftSerializer

MAX_SPAN = timedelta(days=3)
# How far from now the timeline looks (before it, local times had odd offsets: LMT).
REACH = timedelta(days=366)


class QueueQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ServiceRequest.Kind.choices, required=False)
    category = serializers.ChoiceField(choices=ServiceRequest.Category.choices, required=False)
    status = serializers.ChoiceField(choices=ServiceRequest.Status.choices, required=False)
    channel = serializers.ChoiceField(choices=ServiceRequest.Channel.choices, required=False)
    skill = serializers.SlugField(max_length=40, required=False, help_text=_("A skill's code."))
    technician = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("The technician of the live visit."),
    )
    territory = serializers.CharField(
        max_length=80, required=False, help_text=_("The territory of the live visit's technician.")
    )
    search = serializers.CharField(
        max_length=100, required=False, help_text=_("Number, customer name, address or phone.")
    )
    needs = serializers.ChoiceField(choices=NEEDS, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)


class VisitBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    technician_id = serializers.IntegerField()
    technician = serializers.CharField()
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    status = serializers.CharField()


class QueueRowSerializer(serializers.Serializer):
    """The request's live payload (as in events) and what it needs."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    priority = serializers.IntegerField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    customer = serializers.CharField()
    customer_id = serializers.IntegerField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    response_due = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    window_at_risk = serializers.BooleanField()
    plan_note = serializers.CharField()
    incident_id = serializers.IntegerField(allow_null=True)
    reports = serializers.IntegerField()
    channel = serializers.CharField()
    version = serializers.IntegerField()
    visit = VisitBriefSerializer(allow_null=True)
    urgency = serializers.ChoiceField(choices=NEEDS[:-1], allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    held = serializers.BooleanField()
    required_skills = serializers.ListField(child=serializers.CharField())


class QueueCountsSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    human = serializers.IntegerField()
    escalated = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    late = serializers.IntegerField()
    held = serializers.IntegerField()


class QueueSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Requests matching every filter."))
    counts = QueueCountsSerializer(
        help_text=_("Each bucket among the matches of every filter but `needs`.")
    )
    results = QueueRowSerializer(many=True)
    limit = serializers.IntegerField(help_text=_("The page size used."))
    next_offset = serializers.IntegerField(allow_null=True)


BOARD_READ = [IsAuthenticated, HasRole.of(*STAFF_ROLES)]


@extend_schema(tags=["board"])
class QueueView(TenantScoped, APIView):
    """Open requests of the tenant: those needing a person first, by deadline, then by age."""

    permission_classes = BOARD_READ

    @extend_schema(
        parameters=[QueueQuery], responses={200: QueueSerializer, **error_responses(400)}
    )
    def get(self, request):
        query = QueueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        limit, offset = data.pop("limit"), data.pop("offset")
        body = board_queue(
            user=request.user, filters=QueueFilters(**data), limit=limit, offset=offset
        )
        return Response(body)


class TimelineQuery(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text=_("Today 00:00 (the tenant's)."))
    end = serializers.DateTimeField(
        required=False, help_text=_("The end of tomorrow; at most 3 days after the start.")
    )
    technician = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    territory = serializers.CharField(max_length=80, required=False)
    skill = serializers.SlugField(max_length=40, required=False)
    search = serializers.CharField(
        max_length=100, required=False, help_text=_("A technician's name or user name.")
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=300, default=50, help_text=_("Technicians per page.")
    )
    offset = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def validate(self, attrs: dict) -> dict:
        today = timezone.localdate(timezone=self.zone)
        start = attrs.get("start") or datetime.combine(today, time.min, tzinfo=self.zone)
        end = attrs.get("end") or datetime.combine(
            today + timedelta(days=2), time.min, tzinfo=self.zone
        )
        if end <= start:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]})
        if end - start > MAX_SPAN:
            raise serializers.ValidationError({"end": [_("Show at most 3 days at once.")]})
        if abs(start - timezone.now()) > REACH:
            raise serializers.ValidationError(
                {"start": [_("Choose a day within a year of today.")]}
            )
        return {**attrs, "start": start, "end": end}


class TimelineTechnicianSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    position = serializers.SerializerMethodField()
    shifts = ShiftSerializer(source="shifts_in_range", many=True, read_only=True)
    absences = AbsenceSerializer(source="absences_in_range", many=True, read_only=True)

    class Meta:
        model = Technician
        fields = ["id", "name", "territory", "skills", "position", "shifts", "absences"]
        read_only_fields = fields

    def get_name(self, technician: Technician) -> str:
        return str(technician)

    @extend_schema_field(PositionSerializer(allow_null=True))
    def get_position(self, technician: Technician) -> dict | None:
        if technician.last_lat is None or technician.last_lon is None:
            return None
        return {
            "lat": technician.last_lat,
            "lon": technician.last_lon,
            "seen_at": technician.last_seen_at,
        }


class TimelineVisitSerializer(serializers.ModelSerializer):
    request_id = serializers.IntegerField()
    request_number = serializers.CharField(source="request.number")
    window_start = serializers.DateTimeField(source="request.window_start", allow_null=True)
    window_end = serializers.DateTimeField(source="request.window_end", allow_null=True)
    response_due = serializers.DateTimeField(source="request.response_due", allow_null=True)
    kind = serializers.CharField(source="request.kind")
    category = serializers.CharField(source="request.category")
    customer = serializers.CharField(source="request.customer.name")
    address = serializers.CharField(source="request.address")
    lat = serializers.FloatField(source="request.lat")
    lon = serializers.FloatField(source="request.lon")
    late = serializers.SerializerMethodField()
    at_risk = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="request.version")

    class Meta:
        model = Visit
        fields = ["id", "request_id", "request_number", "technician_id", "status"]
        fields += ["planned_start", "planned_end", "travel_minutes", "pinned"]
        fields += ["window_start", "window_end", "response_due", "kind", "category"]
        fields += ["customer", "address", "lat", "lon", "late", "at_risk", "version"]
        read_only_fields = fields

    def get_late(self, visit: Visit) -> bool:
        return visit_is_late(visit, self.context["now"])

    def get_at_risk(self, visit: Visit) -> bool:
        return visit_is_at_risk(visit)


class TimelineSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    now = serializers.DateTimeField()
    technicians = TimelineTechnicianSerializer(many=True)
    visits = TimelineVisitSerializer(many=True)
    count = serializers.IntegerField(help_text=_("Technicians matching the filters."))
    limit = serializers.IntegerField(help_text=_("Technicians per page."))
    next_offset = serializers.IntegerField(allow_null=True)


@extend_schema(tags=["board"])
class TimelineView(TenantScoped, APIView):
    """A page of the crew (by name) with their shifts, absences and visits over a range of at
    most 3 days."""

    permission_classes = BOARD_READ

    @extend_schema(
        parameters=[TimelineQuery], responses={200: TimelineSerializer, **error_responses(400)}
    )
    def get(self, request):
        query = TimelineQuery(data=request.query_params, zone=request.user.tenant.zone)
        query.is_valid(raise_exception=True)
        timeline = board_timeline(user=request.user, **query.validated_data)
        now = timezone.now()
        body = TimelineSerializer({**timeline, "now": now}, context={"now": now}).data
        return Response(body)


class CustomerBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    address = serializers.CharField()
    account_number = serializers.CharField()


class HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_actor(self, change) -> str | None:
        actor = change.actor
        return (actor.get_full_name() or actor.username) if actor else None


class DrawerVisitSerializer(serializers.ModelSerializer):
    technician = serializers.CharField(source="technician.__str__")
    reason = serializers.CharField(help_text=_("Why it could not be completed (a code), or empty."))

    class Meta:
        model = Visit
        fields = ["id", "technician_id", "technician", "status", "planned_start", "planned_end"]
        fields += ["arrived_at", "finished_at", "reason", "note", "pinned"]
        read_only_fields = fields


class DrawerSerializer(serializers.Serializer):
    request = serializers.SerializerMethodField()
    customer = CustomerBriefSerializer()
    description = serializers.CharField(source="request.description")
    history = HistorySerializer(many=True)
    visits = DrawerVisitSerializer(many=True)
    decisions = DecisionSerializer(many=True)

    @extend_schema_field(QueueRowSerializer)
    def get_request(self, drawer: dict) -> dict:
        return queue_row(drawer["request"])


@extend_schema(tags=["board"])
class DrawerView(TenantScoped, APIView):
    """One request with its customer, history, visits and the engine's decisions."""

    permission_classes = BOARD_READ

    @extend_schema(responses={200: DrawerSerializer, **error_responses(404)})
    def get(self, request, pk: int):
        return Response(DrawerSerializer(board_request(user=request.user, pk=pk)).data)
