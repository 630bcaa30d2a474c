from django.contrib import admin

from core.admin import ReadOnlyAdmin
from reports import models


# Each of these is written by a service (an export's worker, the roll-up, a dispute and its
# answer): the admin shows them, it does not edit them.
@admin.register(models.ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "status", "progress", "requested_by", "tenant"]
    list_filter = ["tenant", "status", "kind"]


@admin.register(models.DailyKpi)
class DailyKpiAdmin(ReadOnlyAdmin):
    list_display = ["day", "kpi", "category", "channel", "hits", "total", "tenant"]
    list_filter = ["tenant", "kpi"]


@admin.register(models.Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "technician", "kpi", "request", "upheld", "answered_at"]
    list_filter = ["tenant", "upheld"]


@admin.register(models.PromiseRisk)
class PromiseRiskAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "request", "technician", "cause", "window_end"]
    list_filter = ["tenant", "cause"]
