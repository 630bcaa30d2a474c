"""`GET /api/v1/windows/`: the arrival windows a customer can be offered, best first."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import INTAKE_ROLES, HasRole
from core.api import TenantScoped, error_responses
from dispatch.windows import MAX_DAYS, JobToBook, windows_offered
from requests_app.models import Customer
from technicians.models import Skill

# Windows are offered for dates from yesterday (a time zone behind) to a year ahead.
HORIZON = timedelta(days=366)


class WindowQuerySerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("Where the job is: the customer's registered location."),
    )
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
    skills = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Skill.objects.none(), required=False
    )
    minutes = serializers.IntegerField(min_value=5, max_value=720, default=60)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        if tenant is not None:
            self.fields["customer"].queryset = Customer.objects.for_tenant(tenant)
            self.fields["skills"].child_relation.queryset = Skill.objects.for_tenant(tenant)

    def validate(self, attrs: dict) -> dict:
        if "lat" not in attrs or "lon" not in attrs:
            customer = attrs.get("customer")
            if customer is None or customer.lat is None:
                raise serializers.ValidationError(
                    {"lat": [_("Give lat and lon, or a customer with a known location.")]}
                )
            attrs["lat"], attrs["lon"] = customer.lat, customer.lon
        today = timezone.localdate(timezone=self.tenant.zone)
        for name in ("date_from", "date_to"):
            day = attrs.get(name)
            if day is not None and not today - timedelta(days=1) <= day <= today + HORIZON:
                raise serializers.ValidationError({name: [_("Must be within a year from today.")]})
        attrs.setdefault("date_from", today)
        attrs.setdefault(
            "date_to", attrs["date_from"] + timedelta(days=self.tenant.booking_days_ahead)
        )
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": [_("Must not be before date_from.")]})
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"date_to": [_("At most %(days)d days at a time.") % {"days": MAX_DAYS}]}
            )
        return attrs


class OfferSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    technicians = serializers.IntegerField(help_text=_("How many technicians could take it."))
    detour_minutes = serializers.FloatField(help_text=_("Extra driving for the best one."))
    load = serializers.FloatField(help_text=_("Share of that technician's day already booked."))
    score = serializers.FloatField(help_text=_("Lower is better."))
    recommended = serializers.BooleanField()


class WindowsView(TenantScoped, APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*INTAKE_ROLES)]

    @extend_schema(
        parameters=[WindowQuerySerializer],
        responses={200: OfferSerializer(many=True), **error_responses(400)},
    )
    def get(self, request):
        tenant = request.user.tenant
        query = WindowQuerySerializer(data=request.query_params, tenant=tenant)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        job = JobToBook(
            point=(data["lat"], data["lon"]),
            minutes=data["minutes"],
            skills=frozenset(skill.code for skill in data.get("skills", [])),
        )
        offers = windows_offered(
            tenant=tenant, job=job, date_from=data["date_from"], date_to=data["date_to"]
        )
        return Response(OfferSerializer(offers, many=True).data)
