from django.contrib import admin

from core.admin import ReadOnlyAdmin
from dispatch.models import Decision


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "technician", "policy", "outcome", "created_at"]
    list_filter = ["tenant", "policy", "outcome"]
    raw_id_fields = ["request", "technician"]
