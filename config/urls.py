from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from core import views as core_views
from core.feed import EventFeedView
from core.metrics import metrics
from dispatch import views
from dispatch.board_api import DrawerView, QueueView, TimelineView
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
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("board/", views.board, name="board"),
    path("health/", core_views.ready, name="health"),
    path("health/live/", core_views.live, name="health-live"),
    path("metrics", metrics, name="metrics"),
    path("health/ready/", core_views.ready, name="health-ready"),
    path("tech/", technician_views.day, name="technician-day"),
    path("tech/visits/<int:pk>/<str:to>/", technician_views.visit_step, name="technician-step"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
    path("", include("surveys.urls")),
]

handler404 = "core.api.not_found"
handler500 = "core.views.server_error"
