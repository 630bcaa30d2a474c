"""The admin, for two kinds of people: platform staff (superusers, no tenant) see everything; a
tenant's administrator (role admin) sees and edits their own tenant's rows only — lists, forms,
the pickers of related rows — and never the platform's own tables (API tokens, lockouts)."""

from django.contrib import admin

from accounts.models import Role, Tenant
from core.models import Event


def is_platform_staff(user) -> bool:
    return user.is_active and user.is_superuser and user.tenant_id is None


def is_tenant_admin(user) -> bool:
    return (
        user.is_active
        and user.is_staff
        and user.tenant_id is not None
        and (user.role == Role.ADMIN)
    )


def has_tenant_field(model) -> bool:
    return any(field.name == "tenant" for field in model._meta.fields)


def _tenant_filter(model, tenant_id: int) -> dict | None:
    """How rows of `model` belong to a tenant, as a filter (None: they do not)."""
    if model is Tenant:
        return {"pk": tenant_id}
    if has_tenant_field(model):
        return {"tenant_id": tenant_id}
    return None


class _ScopedChoices:
    """The pickers of related rows list the admin's own tenant's rows only."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        _limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _limit_choices(db_field, request, kwargs) -> None:
    if is_platform_staff(request.user):
        return
    related = db_field.related_model
    scope = _tenant_filter(related, request.user.tenant_id)
    manager = related._default_manager
    kwargs["queryset"] = manager.filter(**scope) if scope is not None else manager.none()


class TenantScopedInline(_ScopedChoices, admin.TabularInline):
    """Rows edited inside their parent's page: they take the parent's tenant."""

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        return [*excluded, "tenant"] if has_tenant_field(self.model) else excluded


class TenantScopedAdmin(_ScopedChoices, admin.ModelAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_staff(request.user):
            return queryset
        scope = _tenant_filter(self.model, request.user.tenant_id)
        return queryset.filter(**scope) if scope is not None else queryset.none()

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_platform_staff(request.user):
            return filters
        return [name for name in filters if name != "tenant"]

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        if not is_platform_staff(request.user) and has_tenant_field(self.model):
            excluded.append("tenant")  # set from the admin's own tenant on save
        return excluded

    def save_model(self, request, obj, form, change):
        if not is_platform_staff(request.user) and has_tenant_field(type(obj)):
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        """Inline rows take their parent's tenant."""
        for row in formset.save(commit=False):
            if has_tenant_field(type(row)):
                row.tenant_id = form.instance.tenant_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()

    # A tenant's administrator may do here what the model admin allows; platform staff what
    # their permissions allow.
    def has_module_permission(self, request):
        return is_tenant_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request, obj) and (
            is_tenant_admin(request.user) or super().has_view_permission(request, obj)
        )

    def has_change_permission(self, request, obj=None):
        return self._in_scope(request, obj) and (
            is_tenant_admin(request.user) or super().has_change_permission(request, obj)
        )

    def has_add_permission(self, request, *args):
        return is_tenant_admin(request.user) or super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        return self._in_scope(request, obj) and (
            is_tenant_admin(request.user) or super().has_delete_permission(request, obj)
        )

    def _in_scope(self, request, obj) -> bool:
        if obj is None or is_platform_staff(request.user):
            return True
        scope = _tenant_filter(type(obj), request.user.tenant_id)
        return scope is not None and all(getattr(obj, k) == v for k, v in scope.items())


class ReadOnlyAdmin(TenantScopedAdmin):
    """For rows only a service may write (an audit trail, the event log, a decision): the admin
    shows them and changes nothing, so no history is rewritten by hand."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "seq", "kind", "created_at"]
    list_filter = ["tenant", "kind"]
