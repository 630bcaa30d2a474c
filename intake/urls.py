"""Intake channels: the operator console, the customer portal and the provider webhooks."""

from django.urls import include, path

from intake import console, portal

urlpatterns = [
    path("console/", console.console, name="console"),
    path("p/<slug:slug>/", portal.new_request, name="portal-new"),
    path("t/<str:token>/", portal.track, name="portal-track"),
    path("hooks/", include("intake.hooks_urls")),
]
