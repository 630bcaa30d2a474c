"""KPI API for managers and admins: the period's figures against the previous period, a KPI's
trend, and the requests behind a figure. Thin: the query is checked here, every number comes
from `reports.selectors`."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from core.api import TenantScoped, error_responses
from core.drf import Pagination
from reports import selectors, services
from reports.models import ExportJob
from requests_app.models import ServiceRequest

MAX_DAYS = 400
PARTS = ["hits", "misses", "all"]


class KpiQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text=_("First day (tenant's time zone)."))
    end = serializers.DateField(required=False, help_text=_("Last day, included."))
    tenant = serializers.IntegerField(
        required=False, min_value=1, help_text=_("A client the user serves (default: theirs).")
    )
    territory = serializers.CharField(required=False, max_length=80, default="")
    technician = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1, help_text=_("A team's id."))
    category = serializers.ChoiceField(
        choices=ServiceRequest.Category.choices, required=False, default=""
    )
    channel = serializers.ChoiceField(
        choices=ServiceRequest.Channel.choices, required=False, default=""
    )

    def validate(self, data):
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"start": [_("The period starts after it ends.")]})
        if (end - start).days > MAX_DAYS or end.year >= 9999:
            raise serializers.ValidationError({"end": [_("At most %(n)s days.") % {"n": MAX_DAYS}]})
        return {**data, "start": start, "end": end}


def kpi_query(request, serializer_class=KpiQuerySerializer):
    """(filter, tenant, validated data) of a KPI request; the tenant checked against the user."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    tenant = selectors.report_tenant_for_user(request.user, data.get("tenant"))
    f = selectors.kpi_filter_for(
        tenant=tenant,
        first=data["start"],
        last=data["end"],
        territory=data["territory"],
        technician_id=data.get("technician"),
        team_id=data.get("team"),
        category=data["category"],
        channel=data["channel"],
    )
    return f, tenant, data


class KpiView(TenantScoped, APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*selectors.REPORT_ROLES)]


class SummaryView(KpiView):
    """Every KPI of the period (default: the last 30 days) with the previous period's rates and
    the change, the promise misses by cause, and the backlog now."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 404)},
    )
    def get(self, request):
        f, tenant, _data = kpi_query(request)
        return Response(selectors.kpi_summary(f=f, tenant=tenant))


class TrendQuerySerializer(KpiQuerySerializer):
    kpi = serializers.ChoiceField(choices=list(selectors.RATES))
    bucket = serializers.ChoiceField(choices=list(selectors.BUCKETS), default="day")


class TrendPointSerializer(serializers.Serializer):
    period = serializers.DateTimeField()
    hits = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class TrendView(KpiView):
    """A rate KPI per day, week or month of the tenant's calendar."""

    @extend_schema(
        parameters=[TrendQuerySerializer],
        responses={200: TrendPointSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        f, tenant, data = kpi_query(request, TrendQuerySerializer)
        with timezone.override(f.zone):
            points = selectors.kpi_rate_trend(
                key=data["kpi"], f=f, tenant=tenant, bucket=data["bucket"]
            )
            return Response(TrendPointSerializer(points, many=True).data)


class DrillQuerySerializer(KpiQuerySerializer):
    kpi = serializers.ChoiceField(choices=list(selectors.DRILLABLE))
    part = serializers.ChoiceField(
        choices=[*PARTS, *ServiceRequest.Channel.values, *selectors.Cause.LABELS],
        default="hits",
        help_text=_("hits, misses or all; a channel or a promise-miss cause for those figures."),
    )

    def validate(self, data):
        data = super().validate(data)
        kpi, part = data["kpi"], data["part"]
        allowed = set(PARTS)
        if kpi == "requests_by_channel":
            allowed |= set(ServiceRequest.Channel.values)
        if kpi == "promise_misses":
            allowed |= set(selectors.Cause.LABELS)
        if part not in allowed:
            raise serializers.ValidationError({"part": [_("Not a part of this figure.")]})
        return data


class DrillRowSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    customer = serializers.CharField(source="customer.name")

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "number",
            "kind",
            "category",
            "channel",
            "status",
            "customer",
            "created_at",
            "window_start",
            "window_end",
        ]
        read_only_fields = fields


class CountedPagination(Pagination):
    """Pages whose total the view already knows (`view.known_count`): the figure's own count,
    read from the roll-up, instead of counting a year of rows again."""

    def paginate_queryset(self, queryset, request, view=None):
        self.known_count = getattr(view, "known_count", None)
        return super().paginate_queryset(queryset, request, view)

    def get_count(self, queryset):
        if self.known_count is not None:
            return self.known_count
        return super().get_count(queryset)


class DrillDownView(TenantScoped, ListAPIView):
    """The requests a figure counts, newest first, paged."""

    permission_classes = [IsAuthenticated, HasRole.of(*selectors.REPORT_ROLES)]
    serializer_class = DrillRowSerializer
    pagination_class = CountedPagination
    known_count: int | None = None

    @extend_schema(
        parameters=[DrillQuerySerializer],
        responses={200: DrillRowSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema asks which model it lists
            return ServiceRequest.objects.none()
        f, tenant, data = kpi_query(self.request, DrillQuerySerializer)
        asked = {"key": data["kpi"], "f": f, "tenant": tenant, "part": data["part"]}
        self.known_count = selectors.kpi_requests_count(**asked)
        return selectors.kpi_requests(**asked)


class ExportCreateSerializer(DrillQuerySerializer):
    kind = serializers.ChoiceField(choices=ExportJob.Kind.choices)


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "rows_total",
            "rows_done",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        return reverse("reports-export-download", args=[job.pk])


class ExportCreateView(KpiView):
    """Ask for a large export of the requests behind a figure: a worker writes it, the answer
    names the job to poll for its progress and, once ready, its download link."""

    @extend_schema(
        request=ExportCreateSerializer,
        responses={201: ExportJobSerializer, **error_responses(400, 404, 415)},
    )
    def post(self, request):
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = selectors.report_tenant_for_user(request.user, data.get("tenant"))
        query = {
            key: (value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in data.items()
            if key not in ("kind", "tenant")
        }
        job = services.export_job_create(
            user=request.user, tenant=tenant, kind=data["kind"], query=query
        )
        return Response(ExportJobSerializer(job).data, status=201)


class ExportJobView(KpiView):
    """An export's progress (%), and its download link once ready."""

    @extend_schema(responses={200: ExportJobSerializer, **error_responses(404)})
    def get(self, request, pk: int):
        job = selectors.get_export_for_user(request.user, pk)
        return Response(ExportJobSerializer(job).data)
