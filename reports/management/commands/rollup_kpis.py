"""Roll up the KPIs of past days, for every tenant: what the nightly job does for its last
few days, over as many days as asked — run once after installing or upgrading the reports, so
history that predates the nightly job is read from the roll-up too (docs/kpis.md)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Tenant
from core.tenancy import every_tenant
from reports import services


class Command(BaseCommand):
    help = "Roll up the KPIs of the last --days days (not today) for every tenant."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=400)

    def handle(self, *args, days: int, **options):
        with every_tenant():
            for tenant in Tenant.objects.order_by("pk"):
                today = timezone.localdate(timezone=tenant.zone)
                kept = services.daily_kpis_refresh_days(
                    tenant=tenant,
                    first=today - timedelta(days=days),
                    last=today - timedelta(days=1),
                )
                self.stdout.write(f"{tenant.slug}: {kept} rows for {days} days")
