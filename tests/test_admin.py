"""The admin shows every model of the platform; rows only a service writes are read-only."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin

from tests.factories import UserFactory

# The platform's own apps: those whose code is in this repository.
PROJECT_APPS = [
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).parent == Path(settings.BASE_DIR)
]
WRITTEN_BY_SERVICES = (
    "core.Event",
    "dispatch.Decision",
    "requests_app.StatusChange",
    "requests_app.Incident",
    "requests_app.IdempotencyKey",
    "fieldwork.ClientAction",
    "fieldwork.LocationPing",
    "reports.ExportJob",
    "reports.DailyKpi",
    "reports.Dispute",
    "reports.PromiseRisk",
    "contacts.ContactMessage",
    "contacts.ContactChange",
    "contacts.CampaignMessage",
)


def test_every_model_of_the_platform_is_in_the_admin():
    assert {"core", "dispatch", "requests_app"} <= set(PROJECT_APPS)
    missing = [
        model._meta.label
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("label", WRITTEN_BY_SERVICES)
def test_rows_written_only_by_services_cannot_be_added_or_changed_in_the_admin(rf, label):
    model = apps.get_model(label)
    request = rf.get("/admin/")
    request.user = UserFactory(tenant=None, role="", is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
