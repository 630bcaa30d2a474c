"""The demo's KPI history: months of finished work, rolled up, with teams that differ."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Tenant
from reports import selectors
from reports.demo import HISTORY_DAYS
from reports.models import DailyKpi
from technicians.models import Team

pytestmark = pytest.mark.django_db


def test_the_demo_has_months_of_rolled_up_history_and_teams_that_differ(settings):
    settings.DEBUG = True  # the command refuses to create demo passwords in production
    call_command("seed_demo")
    tenant = Tenant.objects.get(slug="almaty-telecom")
    today = timezone.localdate(timezone=tenant.zone)
    first = today - timedelta(days=HISTORY_DAYS)

    days = DailyKpi.objects.filter(tenant=tenant, kpi=selectors.ROLLUP_MARK)
    f = selectors.kpi_filter_for(tenant=tenant, first=first, last=today - timedelta(days=1))
    trend = selectors.kpi_rate_trend(key="windows_kept", f=f, tenant=tenant, bucket="month")
    kept_by_team = {
        team.name: selectors.kpi_rate(
            key="windows_kept",
            f=selectors.kpi_filter_for(
                tenant=tenant, first=first, last=today - timedelta(days=1), team_id=team.pk
            ),
            tenant=tenant,
        ).percent
        for team in Team.objects.filter(tenant=tenant)
    }
    summary = selectors.kpi_summary(f=f, tenant=tenant)

    assert days.count() == HISTORY_DAYS
    assert len(trend) >= 3 and all(point["total"] for point in trend)
    assert set(kept_by_team) == {"North team", "South team", "East team", "West team"}
    assert kept_by_team["North team"] > kept_by_team["South team"]
    assert sum(summary["promise_misses_by_cause"].values()) > 0
    assert summary["unproductive_by_reason"] and summary["time_to_restore"]["n"] > 0
