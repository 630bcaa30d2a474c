from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ContactPoint, Role, Tenant, User
from core.admin import TenantScopedAdmin, is_platform_staff


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    """A tenant's administrator edits their own client's settings; only platform staff add or
    remove clients."""

    list_display = ["name", "slug", "time_zone", "response_sla_minutes", "window_hours"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request, *args):
        return is_platform_staff(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_platform_staff(request.user)


@admin.register(ContactPoint)
class ContactPointAdmin(TenantScopedAdmin):
    """The numbers, e-mail addresses and SMS codes that tell every channel which client a
    contact is for (stored normalised: +digits, lower-case e-mail)."""

    list_display = ["address", "kind", "tenant"]
    list_filter = ["tenant", "kind"]
    search_fields = ["address"]


@admin.register(User)
class UserAdmin(TenantScopedAdmin, BaseUserAdmin):
    """A tenant's administrator manages their own client's users and roles, never platform
    rights: superuser, groups and permissions are platform staff's alone."""

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

    PLATFORM_ONLY = ("is_superuser", "is_staff", "groups", "user_permissions")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if is_platform_staff(request.user):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        f
                        for f in options["fields"]
                        if f not in self.PLATFORM_ONLY and f != "tenant"
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if not is_platform_staff(request.user):
            # Staff status follows the role; platform rights are never granted from here.
            obj.is_superuser = False
            obj.is_staff = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)
