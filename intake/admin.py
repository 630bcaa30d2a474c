from django.contrib import admin

from core.admin import TenantScopedAdmin
from intake.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(TenantScopedAdmin):
    list_display = ["received_at", "channel", "sender", "outcome", "request", "tenant"]
    list_filter = ["channel", "outcome", "tenant"]
    search_fields = ["message_id", "sender"]
    raw_id_fields = ["request"]
    readonly_fields = ["channel", "message_id", "tenant", "sender", "received_at", "outcome"]
