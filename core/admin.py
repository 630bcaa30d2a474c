from django.contrib import admin

from core.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["tenant", "seq", "kind", "created_at"]
    list_filter = ["tenant", "kind"]
