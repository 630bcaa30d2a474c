"""Report pages. The API is routed in config/urls.py with the rest of /api/v1/."""

from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.report, name="reports"),
    path("reports/requests/", views.drill_down, name="reports-requests"),
    path("reports/export/<str:kind>/", views.export, name="reports-export"),
    path("reports/scorecard/", views.scorecard, name="reports-scorecard"),
    path("reports/scorecard/dispute/", views.dispute_open, name="reports-dispute-open"),
    path("reports/disputes/", views.disputes, name="reports-disputes"),
    path("reports/disputes/<int:pk>/answer/", views.dispute_answer, name="reports-dispute-answer"),
    path(
        "reports/exports/<int:pk>/download/",
        views.export_download,
        name="reports-export-download",
    ),
]
