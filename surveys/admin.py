from django.contrib import admin

from core.admin import TenantScopedAdmin
from surveys import models


class QuestionInline(admin.TabularInline):
    model = models.Question
    extra = 0
    exclude = ["tenant"]


@admin.register(models.SurveyTemplate)
class SurveyTemplateAdmin(TenantScopedAdmin):
    list_display = ["name", "purpose", "version", "active", "tenant"]
    list_filter = ["tenant", "purpose", "active"]
    inlines = [QuestionInline]


@admin.register(models.SurveySettings)
class SurveySettingsAdmin(TenantScopedAdmin):
    list_display = ["tenant", "link_days", "rest_days", "sampling_percent", "quiet_start_hour"]


@admin.register(models.ServicePoint)
class ServicePointAdmin(TenantScopedAdmin):
    list_display = ["name", "code", "region", "tenant"]


@admin.register(models.KioskDevice)
class KioskDeviceAdmin(TenantScopedAdmin):
    list_display = ["name", "service_point", "active", "last_seen_at"]
    readonly_fields = ["token_hash"]


@admin.register(models.Response)
class ResponseAdmin(TenantScopedAdmin):
    list_display = ["submitted_at", "channel", "csat", "nps", "solved", "tenant"]
    list_filter = ["tenant", "channel"]
    raw_id_fields = ["request", "visit", "technician", "operator", "invitation"]


@admin.register(models.FollowUpCase)
class FollowUpCaseAdmin(TenantScopedAdmin):
    list_display = ["reason", "status", "due_at", "tenant"]
    list_filter = ["tenant", "status"]
    raw_id_fields = ["response", "request", "closed_by"]


@admin.register(models.AuditForm)
class AuditFormAdmin(TenantScopedAdmin):
    list_display = ["name", "target", "active", "tenant"]


class AuditItemInline(admin.TabularInline):
    model = models.AuditItem
    extra = 0
    exclude = ["tenant"]


AuditFormAdmin.inlines = [AuditItemInline]


@admin.register(models.Invitation)
class InvitationAdmin(TenantScopedAdmin):
    list_display = ["request", "status", "skip_reason", "sent_at", "expires_at"]
    list_filter = ["tenant", "status"]
    raw_id_fields = ["visit", "request", "customer"]
    readonly_fields = ["token_hash"]


@admin.register(models.OptOut)
class OptOutAdmin(TenantScopedAdmin):
    list_display = ["phone", "email", "source", "created_at"]


@admin.register(models.PhoneCampaign)
class PhoneCampaignAdmin(TenantScopedAdmin):
    list_display = ["name", "period_start", "period_end", "sample_percent"]


@admin.register(models.Call)
class CallAdmin(TenantScopedAdmin):
    list_display = ["campaign", "phone", "status", "attempts", "next_call_at"]
    raw_id_fields = ["visit", "response"]


@admin.register(models.Audit)
class AuditAdmin(TenantScopedAdmin):
    list_display = ["form", "service_point", "operator", "channel", "score", "created_at"]


for model in (
    models.Question,
    models.Answer,
    models.CallAttempt,
    models.AuditItem,
    models.AuditMark,
):
    admin.site.register(model, TenantScopedAdmin)
