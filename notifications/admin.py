from django.contrib import admin

from core.admin import TenantScopedAdmin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(TenantScopedAdmin):
    list_display = ["kind", "channel", "recipient", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["tenant", "status", "channel", "kind"]
    raw_id_fields = ["request"]
    readonly_fields = ["dedupe_key", "attempts", "last_error", "sent_at"]
