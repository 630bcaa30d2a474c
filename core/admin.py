from django.contrib import admin

from core.models import Event


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows only a service may write (an audit trail, the event log, a decision): the admin
    shows them and changes nothing, so no history is rewritten by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "seq", "kind", "created_at"]
    list_filter = ["tenant", "kind"]
