from django.contrib import admin

from contacts import models
from core.admin import ReadOnlyAdmin, TenantScopedAdmin


@admin.register(models.ContactSettings)
class ContactSettingsAdmin(TenantScopedAdmin):
    list_display = ["tenant", "first_response_minutes", "chat_enabled", "chat_public_key"]


@admin.register(models.OperatorProfile)
class OperatorProfileAdmin(TenantScopedAdmin):
    list_display = ["user", "presence", "languages", "tenant"]


class MessageInline(admin.TabularInline):
    model = models.ContactMessage
    extra = 0
    exclude = ["tenant"]
    readonly_fields = ["seq", "direction", "body", "attachment", "author", "created_at"]


@admin.register(models.Contact)
class ContactAdmin(TenantScopedAdmin):
    list_display = ["number", "channel", "status", "sla_due", "assigned_to", "tenant"]
    list_filter = ["tenant", "channel", "status"]
    inlines = [MessageInline]


@admin.register(models.Campaign)
class CampaignAdmin(TenantScopedAdmin):
    list_display = ["name", "channel", "created_at", "tenant"]


@admin.register(models.ContactMessage)
class ContactMessageAdmin(ReadOnlyAdmin):
    list_display = ["contact", "seq", "direction", "created_at", "tenant"]


@admin.register(models.ContactChange)
class ContactChangeAdmin(ReadOnlyAdmin):
    list_display = ["contact", "from_status", "to_status", "actor", "created_at", "tenant"]


@admin.register(models.CampaignMessage)
class CampaignMessageAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "customer", "status", "skip_reason", "send_after", "tenant"]
