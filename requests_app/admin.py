from django.contrib import admin

from requests_app.models import Customer, ServiceRequest, StatusChange


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email", "account_number", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["name", "phone", "email", "account_number"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]
    fields = readonly_fields


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
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
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["request", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["tenant", "to_status"]
    raw_id_fields = ["request", "actor"]
