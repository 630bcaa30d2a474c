from django.contrib import admin

from core.admin import TenantScopedAdmin
from surveys.models import Survey


@admin.register(Survey)
class SurveyAdmin(TenantScopedAdmin):
    list_display = ["visit", "tenant", "channel", "score", "nps", "sent_at", "answered_at"]
    list_filter = ["tenant", "channel", "score"]
    raw_id_fields = ["visit"]
