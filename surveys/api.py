"""Survey API for managers and integrations: results (the KPI reports build on the same
selector), follow-up cases and their closing, and ratings imported from external terminals."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from core.api import TenantScoped, error_responses
from surveys import collection, selectors, services
from surveys.models import FollowUpCase

MANAGERS = (Role.MANAGER, Role.ADMIN)
MAX_DAYS = 400


class ResultsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (tenant's time zone).")
    end = serializers.DateField(required=False, help_text="Last day, included.")
    group_by = serializers.ChoiceField(choices=list(selectors.GROUPS), default="technician")
    bucket = serializers.ChoiceField(choices=list(selectors.BUCKETS), required=False)

    def validate(self, data):
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=30)
        if start > end:
            raise serializers.ValidationError({"start": ["The period starts after it ends."]})
        if (end - start).days > MAX_DAYS or end.year >= 9999:
            raise serializers.ValidationError({"end": [f"At most {MAX_DAYS} days."]})
        return {**data, "start": start, "end": end}


class ResultRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    period = serializers.DateTimeField(allow_null=True)
    responses = serializers.IntegerField()
    csat_average = serializers.FloatField(allow_null=True)
    csat_satisfied_percent = serializers.FloatField(allow_null=True)
    nps = serializers.FloatField(allow_null=True)
    ces_average = serializers.FloatField(allow_null=True)
    solved_percent = serializers.FloatField(allow_null=True)
    low_scores = serializers.IntegerField()


class ChannelRateSerializer(serializers.Serializer):
    channel = serializers.CharField()
    label = serializers.CharField()
    asked = serializers.IntegerField(allow_null=True)
    answered = serializers.IntegerField()
    rate_percent = serializers.FloatField(allow_null=True)


class ResultsSerializer(serializers.Serializer):
    results = ResultRowSerializer(many=True)
    rates = ChannelRateSerializer(many=True)


class ResultsView(TenantScoped, APIView):
    """Satisfaction by technician, operator, service point, region or channel in a period,
    optionally by day/week/month, with response rates by channel."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(
        parameters=[ResultsQuerySerializer],
        responses={200: ResultsSerializer, **error_responses(400)},
    )
    def get(self, request):
        query = ResultsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        tenant = request.user.tenant
        zone = tenant.zone
        start = timezone.make_aware(datetime.combine(data["start"], time.min), zone)
        end = timezone.make_aware(datetime.combine(data["end"] + timedelta(days=1), time.min), zone)
        rows = selectors.survey_results(
            tenant_id=tenant.pk,
            start=start,
            end=end,
            group_by=data["group_by"],
            bucket=data.get("bucket"),
            zone=zone,
        )
        rates = selectors.survey_response_rates(tenant_id=tenant.pk, start=start, end=end)
        return Response(ResultsSerializer({"results": rows, "rates": rates}).data)


class FollowUpSerializer(serializers.ModelSerializer):
    request_number = serializers.CharField(source="request.number", default=None, read_only=True)
    csat = serializers.IntegerField(source="response.csat", allow_null=True, read_only=True)
    nps = serializers.IntegerField(source="response.nps", allow_null=True, read_only=True)
    solved = serializers.BooleanField(source="response.solved", allow_null=True, read_only=True)
    channel = serializers.CharField(source="response.channel", read_only=True)

    class Meta:
        model = FollowUpCase
        fields = [
            "id",
            "request",
            "request_number",
            "reason",
            "status",
            "due_at",
            "note",
            "reopened_request",
            "closed_at",
            "csat",
            "nps",
            "solved",
            "channel",
        ]
        read_only_fields = fields


class FollowUpQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FollowUpCase.Status.choices, required=False)


class FollowUpListView(TenantScoped, ListAPIView):
    """A manager's follow-up cases (open first, by due time)."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]
    serializer_class = FollowUpSerializer
    filter_backends = []

    @extend_schema(
        parameters=[FollowUpQuerySerializer],
        responses={200: FollowUpSerializer(many=True), **error_responses(400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = FollowUpQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.follow_ups_for_user(
            self.request.user, status=query.validated_data.get("status")
        )


class FollowUpCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)
    reopen = serializers.BooleanField(
        default=False, help_text="Send the completed request back to new."
    )


class FollowUpCloseView(TenantScoped, APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(
        request=FollowUpCloseSerializer,
        responses={200: FollowUpSerializer, **error_responses(400, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        case = selectors.get_follow_up_for_user(request.user, pk)
        body = FollowUpCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.follow_up_close(case=case, actor=request.user, **body.validated_data)
        return Response(
            FollowUpSerializer(selectors.get_follow_up_for_user(request.user, case.pk)).data
        )


class RatingRowSerializer(serializers.Serializer):
    terminal = serializers.CharField(max_length=50)
    id = serializers.CharField(max_length=50)
    service_point = serializers.CharField(max_length=50)
    answered_at = serializers.CharField(max_length=50)
    score = serializers.IntegerField()


class RatingsImportSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.DictField(),
        max_length=collection.IMPORT_LIMIT,
        help_text="Rows as RatingRow objects; each is checked on its own.",
    )


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)


class RatingsImportView(TenantScoped, APIView):
    """Ratings from external terminals. Each row is checked on its own: bad rows are reported by
    their position (`line` 1 is the first row), the others kept; a row sent again (same
    terminal and id) is a duplicate, not a second rating."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(
        request=RatingsImportSerializer,
        responses={200: ImportReportSerializer, **error_responses(400, 415)},
    )
    def post(self, request):
        body = RatingsImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = collection.ratings_import(
            tenant=request.user.tenant, rows=body.validated_data["rows"], first_line=1
        )
        return Response(ImportReportSerializer(report).data)
