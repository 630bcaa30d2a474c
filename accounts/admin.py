from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ContactPoint, Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "response_sla_minutes", "window_hours"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):
    """The numbers, e-mail addresses and SMS codes that tell every channel which client a
    contact is for (stored normalised: +digits, lower-case e-mail)."""

    list_display = ["address", "kind", "tenant"]
    list_filter = ["tenant", "kind"]
    search_fields = ["address"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "tenant", "role", "first_name", "last_name", "is_active"]
    list_filter = ["tenant", "role", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Tenant and role"), {"fields": ("tenant", "role", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Tenant and role"), {"fields": ("tenant", "role")}),
    )
