from django.contrib import admin

from core.admin import TenantScopedAdmin, TenantScopedInline
from technicians.models import Absence, Shift, Skill, Team, Technician, Visit


@admin.register(Skill)
class SkillAdmin(TenantScopedAdmin):
    list_display = ["code", "name", "tenant"]
    list_filter = ["tenant"]


@admin.register(Team)
class TeamAdmin(TenantScopedAdmin):
    list_display = ["name", "lead", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["name"]
    raw_id_fields = ["lead"]


class ShiftInline(TenantScopedInline):
    model = Shift
    extra = 0
    fields = ["date", "start", "end", "lunch_minutes"]


@admin.register(Technician)
class TechnicianAdmin(TenantScopedAdmin):
    list_display = ["__str__", "tenant", "territory", "team", "active"]
    list_filter = ["tenant", "active", "territory", "team"]
    filter_horizontal = ["skills"]
    raw_id_fields = ["user"]
    inlines = [ShiftInline]


@admin.register(Shift)
class ShiftAdmin(TenantScopedAdmin):
    list_display = ["technician", "date", "start", "end", "tenant"]
    list_filter = ["tenant", "date"]
    raw_id_fields = ["technician"]


@admin.register(Absence)
class AbsenceAdmin(TenantScopedAdmin):
    list_display = ["technician", "start", "end", "reason", "tenant"]
    list_filter = ["tenant"]
    raw_id_fields = ["technician"]


@admin.register(Visit)
class VisitAdmin(TenantScopedAdmin):
    list_display = ["request", "technician", "planned_start", "planned_end", "status", "pinned"]
    list_filter = ["tenant", "status", "pinned"]
    raw_id_fields = ["request", "technician"]
    date_hierarchy = "planned_start"
