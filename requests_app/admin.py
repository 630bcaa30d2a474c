from django.contrib import admin

from core.admin import ReadOnlyAdmin, TenantScopedAdmin, TenantScopedInline
from requests_app.models import Customer, IdempotencyKey, Incident, ServiceRequest, StatusChange


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ["name", "phone", "email", "account_number", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["name", "phone", "email", "account_number"]


class StatusChangeInline(TenantScopedInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]
    fields = readonly_fields


@admin.register(ServiceRequest)
class ServiceRequestAdmin(TenantScopedAdmin):
    list_display = [
        "number",
        "kind",
        "category",
        "status",
        "priority",
        "customer",
        "tenant",
        "created_at",
    ]
    list_filter = ["tenant", "kind", "status", "category", "channel"]
    search_fields = ["customer__name", "address", "description"]
    raw_id_fields = ["customer", "created_by"]
    filter_horizontal = ["required_skills"]
    # Status moves only through the services, so the audit trail stays complete.
    readonly_fields = ["status", "assignment_attempts"]
    inlines = [StatusChangeInline]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    """The audit trail: written by the services with every transition, never by hand."""

    list_display = ["request", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["tenant", "to_status"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Outages as the grouping of emergencies made them."""

    list_display = ["number", "category", "reports", "opened_at", "last_report_at", "tenant"]
    list_filter = ["tenant", "category"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """The first answers to API creates made with an Idempotency-Key."""

    list_display = ["key", "status_code", "created_at", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["key"]
