from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ReadOnlyFieldsCached
from dispatch.models import Decision
from requests_app.models import Customer, ServiceRequest
from requests_app.payloads import active_visit
from technicians.models import Skill, Technician, Visit

# How far from now a dispatcher may put a visit by hand.
ASSIGN_BEHIND, ASSIGN_AHEAD = timedelta(days=1), timedelta(days=31)


class VisitSummarySerializer(ReadOnlyFieldsCached, serializers.ModelSerializer):
    technician = serializers.CharField(source="technician.__str__", read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "technician_id", "technician", "planned_start", "planned_end", "status"]


class RequestSerializer(ReadOnlyFieldsCached, serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    required_skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    visit = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "number",
            "kind",
            "priority",
            "category",
            "channel",
            "status",
            "description",
            "customer",
            "customer_name",
            "address",
            "lat",
            "lon",
            "required_skills",
            "estimated_minutes",
            "window_start",
            "window_end",
            "response_due",
            "restoration_due",
            "created_at",
            "window_at_risk",
            "held",
            "customer_confirmed_at",
            "incident",
            "reports",
            "version",
            "visit",
        ]
        read_only_fields = fields

    @extend_schema_field(VisitSummarySerializer(allow_null=True))
    def get_visit(self, obj: ServiceRequest) -> dict | None:
        visit = active_visit(obj)
        return VisitSummarySerializer(visit).data if visit else None


class RequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ServiceRequest.Kind.choices)
    category = serializers.ChoiceField(choices=ServiceRequest.Category.choices)
    channel = serializers.ChoiceField(
        choices=ServiceRequest.Channel.choices, default=ServiceRequest.Channel.API
    )
    description = serializers.CharField(max_length=4000, allow_blank=True, default="")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
    address = serializers.CharField(max_length=300, allow_blank=True, default="")
    required_skills = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Skill.objects.none(), required=False
    )
    estimated_minutes = serializers.IntegerField(min_value=5, max_value=720, default=60)
    window_start = serializers.DateTimeField(required=False)
    window_end = serializers.DateTimeField(required=False)
    priority = serializers.IntegerField(min_value=1, max_value=5, required=False)

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tenant is not None:
            # Only the caller's tenant's rows are valid choices: another tenant's id reads as
            # "does not exist", never as "belongs to someone else".
            self.fields["customer"].queryset = Customer.objects.for_tenant(tenant)
            self.fields["required_skills"].child_relation.queryset = Skill.objects.for_tenant(
                tenant
            )

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("window_start"), attrs.get("window_end")
        if start and attrs["kind"] == ServiceRequest.Kind.EMERGENCY:
            raise serializers.ValidationError(
                {"window_start": [_("Only planned visits have an arrival window.")]}
            )
        if (start is None) != (end is None):
            missing = "window_end" if end is None else "window_start"
            raise serializers.ValidationError({missing: [_("Give both ends of the window.")]})
        if start and end <= start:
            raise serializers.ValidationError(
                {"window_end": [_("The window must end after it starts.")]}
            )
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lon": [_("Give both latitude and longitude.")]})
        customer = attrs["customer"]
        if "lat" not in attrs and (customer.lat is None or customer.lon is None):
            raise serializers.ValidationError(
                {"lat": [_("The customer has no known location: give coordinates.")]}
            )
        return attrs


class VisitTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[c for c in Visit.Status.choices if c[0] not in ("scheduled", "cancelled")]
    )
    reason = serializers.ChoiceField(choices=Visit.Reason.choices, required=False, default="")
    note = serializers.CharField(max_length=2000, allow_blank=True, default="")
    confirm = serializers.BooleanField(
        default=False,
        help_text=_("Do it although it is out of order, before the shift or before the window."),
    )
    why = serializers.CharField(
        max_length=300,
        allow_blank=True,
        default="",
        help_text=_("Why a confirmed step was taken (kept in the history)."),
    )


def version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("The request's version the action was decided on: 409 when it changed."),
    )


class AssignTargetSerializer(serializers.Serializer):
    technician = serializers.PrimaryKeyRelatedField(queryset=Technician.objects.none())
    start = serializers.DateTimeField()

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tenant is not None:
            self.fields["technician"].queryset = Technician.objects.for_tenant(tenant)

    def validate_start(self, value: datetime) -> datetime:
        # The planner's horizon: a visit put far outside it would never be planned around.
        now = timezone.now()
        if not now - ASSIGN_BEHIND <= value <= now + ASSIGN_AHEAD:
            raise serializers.ValidationError(
                _("Choose a time between yesterday and %(days)d days ahead.")
                % {"days": ASSIGN_AHEAD.days}
            )
        return value


class ManualAssignSerializer(AssignTargetSerializer):
    confirm = serializers.BooleanField(
        default=False, help_text=_("Assign even though planning rules are broken.")
    )
    version = version_field()


class ProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["skill", "window", "sla", "shift", "overtime", "absence", "overlap", "break"]
    )
    message = serializers.CharField()


class AssignCheckSerializer(serializers.Serializer):
    problems = ProblemSerializer(many=True, help_text=_("Empty: the assignment breaks no rule."))


class RulesBrokenSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    problems = ProblemSerializer(many=True, required=False)
    current = serializers.DictField(
        required=False, help_text=_("With code `stale`: the request as it is now.")
    )


class PinSerializer(serializers.Serializer):
    pinned = serializers.BooleanField()
    version = version_field()


class UnassignSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True, default="")
    version = version_field()


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    version = version_field()


class OfferWindowSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    version = version_field()


class EscalateSerializer(serializers.Serializer):
    escalated = serializers.BooleanField()
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    version = version_field()


class WindowFieldsMixin(serializers.Serializer):
    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        start, end = attrs.get("window_start"), attrs.get("window_end")
        if start and end and end <= start:
            raise serializers.ValidationError(
                {"window_end": [_("The window must end after it starts.")]}
            )
        return attrs


class RequestUpdateSerializer(serializers.Serializer):
    """What may change without moving the promise; the window moves through reschedule."""

    description = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    priority = serializers.IntegerField(min_value=1, max_value=5, required=False)
    address = serializers.CharField(max_length=300, allow_blank=True, required=False)


class RescheduleSerializer(WindowFieldsMixin):
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    version = version_field()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    version = version_field()


class DecisionSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at", read_only=True)
    candidates = serializers.ListField(
        child=serializers.DictField(), help_text=_("Ranked best first, with their costs.")
    )
    excluded = serializers.ListField(
        child=serializers.DictField(), help_text=_("Who could not take it, and why.")
    )

    class Meta:
        model = Decision
        fields = ["at", "policy", "outcome", "technician_id", "candidates", "excluded"]
        read_only_fields = fields
