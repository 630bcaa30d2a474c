from django.contrib import admin

from dispatch.models import Decision, Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["tenant", "seq", "kind", "created_at"]
    list_filter = ["tenant", "kind"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["request", "technician", "policy", "outcome", "created_at"]
    list_filter = ["tenant", "policy", "outcome"]
    raw_id_fields = ["request", "technician"]
