from django.contrib import admin

from core.admin import ReadOnlyAdmin, TenantScopedAdmin
from fieldwork.models import (
    CallAttempt,
    ClientAction,
    LocationPing,
    Part,
    PartUsed,
    ProofOfWork,
    VisitPhoto,
)


@admin.register(Part)
class PartAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "unit", "active", "tenant")
    list_filter = ("active", "tenant")
    search_fields = ("code", "name")


@admin.register(ClientAction)
class ClientActionAdmin(ReadOnlyAdmin):
    list_display = ("kind", "visit", "technician", "outcome", "happened_at", "applied_at")
    list_filter = ("outcome", "kind")
    raw_id_fields = ("visit", "technician")


@admin.register(ProofOfWork)
class ProofOfWorkAdmin(ReadOnlyAdmin):
    list_display = ("visit", "resolution", "signed_by", "signed_at")
    raw_id_fields = ("visit",)


@admin.register(VisitPhoto)
class VisitPhotoAdmin(ReadOnlyAdmin):
    list_display = ("visit", "kind", "size", "taken_at")
    raw_id_fields = ("visit",)


@admin.register(PartUsed)
class PartUsedAdmin(ReadOnlyAdmin):
    list_display = ("visit", "part", "quantity")
    raw_id_fields = ("visit",)


@admin.register(CallAttempt)
class CallAttemptAdmin(ReadOnlyAdmin):
    list_display = ("visit", "at", "note")
    raw_id_fields = ("visit",)


@admin.register(LocationPing)
class LocationPingAdmin(ReadOnlyAdmin):
    list_display = ("technician", "visit", "lat", "lon", "received_at")
    raw_id_fields = ("visit", "technician")
