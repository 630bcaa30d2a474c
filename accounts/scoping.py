"""The one place where rows are scoped to a tenant.

Every domain model inherits `TenantOwned`; every query that serves a user goes through
`for_tenant`, so forgetting the tenant filter is a visible omission rather than a default.
"""

from django.db import models

from accounts.models import Tenant


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> "TenantQuerySet":
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return self.filter(tenant_id=tenant_id)


class TenantOwned(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
