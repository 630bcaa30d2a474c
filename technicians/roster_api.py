"""REST API for the crew: who the technicians are (skills, territory, where they were last
seen), their shifts and absences on a day, and that day's route — what the board draws and an
integrator reads."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import HasRole
from core.api import TenantScoped, error_responses
from technicians.models import Absence, Shift, Skill, Technician, Visit
from technicians.selectors import (
    ROSTER_ROLES,
    get_technician_for_user,
    technicians_for_user,
    visits_of_day,
)


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["code", "name"]


class ShiftSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shift
        fields = ["start", "end", "lunch_minutes", "break_start", "break_end"]
        read_only_fields = ["break_start", "break_end"]


class AbsenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Absence
        fields = ["start", "end", "reason"]


class PointSerializer(serializers.Serializer):
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class PositionSerializer(PointSerializer):
    seen_at = serializers.DateTimeField(allow_null=True)


class TechnicianSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    skills = SkillSerializer(many=True, read_only=True)
    home = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField()
    shifts = ShiftSerializer(source="shifts_of_day", many=True, read_only=True)
    absences = AbsenceSerializer(source="absences_of_day", many=True, read_only=True)

    class Meta:
        model = Technician
        fields = ["id", "name", "territory", "active", "skills", "home", "position"]
        fields += ["shifts", "absences"]
        read_only_fields = fields

    def get_name(self, technician: Technician) -> str:
        return technician.user.get_full_name() or technician.user.username

    @extend_schema_field(PointSerializer)
    def get_home(self, technician: Technician) -> dict:
        return {"lat": technician.home_lat, "lon": technician.home_lon}

    @extend_schema_field(PositionSerializer(allow_null=True))
    def get_position(self, technician: Technician) -> dict | None:
        """Where the technician was last seen (a finished job, a position sent en route)."""
        if technician.last_lat is None or technician.last_lon is None:
            return None
        return {
            "lat": technician.last_lat,
            "lon": technician.last_lon,
            "seen_at": technician.last_seen_at,
        }


class RouteVisitSerializer(serializers.ModelSerializer):
    request_number = serializers.CharField(source="request.number")
    kind = serializers.CharField(source="request.kind")
    category = serializers.CharField(source="request.category")
    customer_name = serializers.CharField(source="request.customer.name")
    address = serializers.CharField(source="request.address")
    lat = serializers.FloatField(source="request.lat")
    lon = serializers.FloatField(source="request.lon")
    window_start = serializers.DateTimeField(source="request.window_start", allow_null=True)
    window_end = serializers.DateTimeField(source="request.window_end", allow_null=True)

    class Meta:
        model = Visit
        fields = ["id", "request", "request_number", "kind", "category", "status"]
        fields += ["planned_start", "planned_end", "travel_minutes", "pinned"]
        fields += ["window_start", "window_end", "customer_name", "address", "lat", "lon"]
        read_only_fields = fields


class TechnicianDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    technician = TechnicianSerializer()
    visits = RouteVisitSerializer(many=True)


class DayQuery(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="The day (the tenant's); today.")

    def day(self):
        return self.validated_data.get("date") or timezone.localdate()


class TechnicianFilter(django_filters.FilterSet):
    skill = django_filters.CharFilter(field_name="skills__code", help_text="A skill's code.")
    territory = django_filters.CharFilter()
    active = django_filters.BooleanFilter()
    on_shift = django_filters.BooleanFilter(
        method="filter_on_shift", help_text="On shift now (true) or not (false)."
    )
    search = django_filters.CharFilter(method="filter_search", help_text="Name or user name.")

    class Meta:
        model = Technician
        fields = ["skill", "territory", "active", "on_shift", "search"]

    def filter_on_shift(self, queryset, name, value):
        now = timezone.now()
        working = Shift.objects.filter(technician=OuterRef("pk"), start__lte=now, end__gt=now)
        return queryset.filter(Exists(working) if value else ~Exists(working))

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(user__username__icontains=value)
        )


DAY = OpenApiParameter("date", str, description="YYYY-MM-DD, the tenant's day; today")


@extend_schema(tags=["technicians"])
class TechnicianViewSet(
    TenantScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The crew of the user's tenant, for dispatchers, managers and the client's administrator."""

    permission_classes = [IsAuthenticated, HasRole.of(*ROSTER_ROLES)]
    lookup_value_regex = "[0-9]+"  # ids are numbers; anything else is no route (404)
    serializer_class = TechnicianSerializer
    filterset_class = TechnicianFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Technician.objects.none()
        return technicians_for_user(self.request.user, day=self._day())

    def _day(self):
        query = DayQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.day()

    @extend_schema(parameters=[DAY], responses={200: TechnicianSerializer, **error_responses(400)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[DAY], responses={200: TechnicianSerializer, **error_responses(400, 404)}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[DAY], responses={200: TechnicianDaySerializer, **error_responses(400, 404)}
    )
    @action(detail=True)
    def day(self, request, pk=None):
        """The technician's day: shifts, absences and the visits in route order, each with
        its agreed window."""
        day = self._day()
        technician = get_technician_for_user(request.user, int(pk), day=day)
        visits = visits_of_day(technician=technician, day=day)
        body = {"date": day, "technician": technician, "visits": visits}
        return Response(TechnicianDaySerializer(body).data)
