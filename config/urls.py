from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from contacts.api import (
    AssignView,
    CampaignsView,
    ContactDetailView,
    ContactKpisView,
    ContactMessagesView,
    ContactQueueView,
    CustomerView,
    PresenceView,
    ReplyView,
    RequestFromContactView,
    StatusView,
    TakeNextView,
)
from core import views as core_views
from core.feed import EventFeedView
from core.metrics import metrics
from dispatch import views
from dispatch.board_api import DrawerView, QueueView, TimelineView
from fieldwork import views as fieldwork_views
from fieldwork.api import MyActionsView, MyConsentView, MyDayView, MyLocationView
from reports.api import (
    DrillDownView,
    ExportCreateView,
    ExportJobView,
    SummaryView,
    TrendView,
)
from requests_app.api import RequestViewSet
from requests_app.customers_api import CustomerViewSet
from requests_app.windows_api import WindowsView
from surveys.api import FollowUpCloseView, FollowUpListView, RatingsImportView, ResultsView
from technicians import views as technician_views
from technicians.api import VisitPinView, VisitTransitionView, VisitUnassignView
from technicians.roster_api import TechnicianViewSet

router = DefaultRouter()
router.register("requests", RequestViewSet, basename="request")
router.register("customers", CustomerViewSet, basename="customer")
router.register("technicians", TechnicianViewSet, basename="technician")

api_v1 = [
    *router.urls,
    path("events/", EventFeedView.as_view(), name="event-feed"),
    path("windows/", WindowsView.as_view(), name="windows"),
    path("visits/<int:pk>/transition/", VisitTransitionView.as_view(), name="visit-transition"),
    path("visits/<int:pk>/pin/", VisitPinView.as_view(), name="visit-pin"),
    path("visits/<int:pk>/unassign/", VisitUnassignView.as_view(), name="visit-unassign"),
    path("me/day/", MyDayView.as_view(), name="my-day"),
    path("me/actions/", MyActionsView.as_view(), name="my-actions"),
    path("me/location/", MyLocationView.as_view(), name="my-location"),
    path("me/consent/", MyConsentView.as_view(), name="my-consent"),
    path("board/queue/", QueueView.as_view(), name="board-queue"),
    path("board/timeline/", TimelineView.as_view(), name="board-timeline"),
    path("board/requests/<int:pk>/", DrawerView.as_view(), name="board-request"),
    path("surveys/results/", ResultsView.as_view(), name="survey-results-api"),
    path("surveys/followups/", FollowUpListView.as_view(), name="survey-followups-api"),
    path(
        "surveys/followups/<int:pk>/close/",
        FollowUpCloseView.as_view(),
        name="survey-followup-close-api",
    ),
    path("surveys/imports/", RatingsImportView.as_view(), name="survey-imports-api"),
    path("kpis/summary/", SummaryView.as_view(), name="kpi-summary"),
    path("kpis/trend/", TrendView.as_view(), name="kpi-trend"),
    path("kpis/requests/", DrillDownView.as_view(), name="kpi-requests"),
    path("kpis/exports/", ExportCreateView.as_view(), name="kpi-exports"),
    path("kpis/exports/<int:pk>/", ExportJobView.as_view(), name="kpi-export"),
    path("kpis/contacts/", ContactKpisView.as_view(), name="kpi-contacts"),
    path("contacts/", ContactQueueView.as_view(), name="contacts-api-queue"),
    path("contacts/campaigns/", CampaignsView.as_view(), name="contacts-api-campaigns"),
    path("contacts/take-next/", TakeNextView.as_view(), name="contacts-api-take-next"),
    path("contacts/presence/", PresenceView.as_view(), name="contacts-api-presence"),
    path("contacts/<int:pk>/", ContactDetailView.as_view(), name="contacts-api-contact"),
    path(
        "contacts/<int:pk>/messages/", ContactMessagesView.as_view(), name="contacts-api-messages"
    ),
    path("contacts/<int:pk>/reply/", ReplyView.as_view(), name="contacts-api-reply"),
    path("contacts/<int:pk>/status/", StatusView.as_view(), name="contacts-api-status"),
    path("contacts/<int:pk>/assign/", AssignView.as_view(), name="contacts-api-assign"),
    path("contacts/<int:pk>/customer/", CustomerView.as_view(), name="contacts-api-customer"),
    path(
        "contacts/<int:pk>/request/", RequestFromContactView.as_view(), name="contacts-api-request"
    ),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("board/", views.board, name="board"),
    path("health/", core_views.ready, name="health"),
    path("health/live/", core_views.live, name="health-live"),
    path("metrics", metrics, name="metrics"),
    path("health/ready/", core_views.ready, name="health-ready"),
    path("tech/", technician_views.day, name="technician-day"),
    path("tech/sw.js", technician_views.service_worker, name="technician-sw"),
    path("tech/manifest.webmanifest", technician_views.manifest, name="technician-manifest"),
    path("tech/photos/<int:pk>/", fieldwork_views.photo, name="visit-photo"),
    path("live/<str:token>/", fieldwork_views.customer_live, name="customer-live"),
    path(
        "live/<str:token>/state/", fieldwork_views.customer_live_state, name="customer-live-state"
    ),
    path("report/<str:token>/", fieldwork_views.service_report, name="service-report"),
    path(
        "report/<str:token>/<str:kind>/<int:pk>/",
        fieldwork_views.service_report_file,
        name="service-report-file",
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
    path("", include("surveys.urls")),
    path("", include("reports.urls")),
    path("", include("contacts.urls")),
]

handler404 = "core.api.not_found"
handler500 = "core.views.server_error"
