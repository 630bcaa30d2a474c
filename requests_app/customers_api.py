"""`/api/v1/customers/`: find a caller by phone, register a new one, see their history."""

from datetime import timedelta

import django_filters
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.permissions import INTAKE_ROLES, STAFF_ROLES, HasRole
from core.api import TenantScoped, error_responses
from core.phones import phone_checked, phone_e164
from requests_app.models import Customer

REPEAT_DAYS = 30


class CustomerSerializer(serializers.ModelSerializer):
    repeat_contact = serializers.SerializerMethodField(
        help_text=_("The customer reported something within the last 30 days.")
    )
    requests_last_30_days = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "address",
            "lat",
            "lon",
            "account_number",
            "created_at",
            "repeat_contact",
            "requests_last_30_days",
        ]
        read_only_fields = ["id", "created_at"]

    def get_repeat_contact(self, obj) -> bool:
        return self.get_requests_last_30_days(obj) > 0

    def get_requests_last_30_days(self, obj) -> int:
        return getattr(obj, "recent_count", 0)

    def validate_phone(self, value: str) -> str:
        return phone_checked(value, region=self.context["tenant"].phone_region) if value else ""

    def validate(self, attrs: dict) -> dict:
        tenant = self.context["tenant"]
        number = attrs.get("account_number")
        if number:
            others = Customer.objects.for_tenant(tenant).filter(account_number=number)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError(
                    {"account_number": [_("Another customer has this account number.")]}
                )
        return attrs


class CustomerFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(method="filter_phone")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Customer
        fields = ["account_number"]

    def filter_phone(self, queryset, name, value):
        return queryset.filter(
            phone=phone_e164(value, region=self.request.user.tenant.phone_region)
        )

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(address__icontains=value) | Q(email__iexact=value)
        )


@extend_schema_view(
    list=extend_schema(responses={200: CustomerSerializer, **error_responses(400)}),
    retrieve=extend_schema(responses={200: CustomerSerializer, **error_responses(404)}),
    create=extend_schema(responses={201: CustomerSerializer, **error_responses(400, 415)}),
    partial_update=extend_schema(
        responses={200: CustomerSerializer, **error_responses(400, 404, 415)}
    ),
)
class CustomerViewSet(
    TenantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        roles = STAFF_ROLES if self.action in ("list", "retrieve") else INTAKE_ROLES
        return [IsAuthenticated(), HasRole.of(*roles)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Customer.objects.none()
        since = timezone.now() - timedelta(days=REPEAT_DAYS)
        return (
            Customer.objects.for_tenant(self.request.user.tenant_id)
            .annotate(recent_count=Count("requests", filter=Q(requests__created_at__gte=since)))
            .order_by("name", "pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "tenant": self.request.user.tenant}

    def perform_create(self, serializer):
        serializer.save(tenant=self.request.user.tenant)
