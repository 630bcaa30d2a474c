"""Survey pages: the customer's link and the kiosk (public), the manager's and operator's
screens. The API is routed in config/urls.py with the rest of /api/v1/."""

from django.urls import path

from surveys import views

urlpatterns = [
    path("s/<str:token>/", views.survey_link, name="survey-link"),
    path("k/<str:token>/", views.kiosk, name="survey-kiosk"),
    path("k/<str:token>/answer/", views.kiosk_answer, name="survey-kiosk-answer"),
    path("surveys/", views.results, name="survey-results"),
    path("surveys/follow-ups/", views.follow_ups, name="survey-follow-ups"),
    path(
        "surveys/follow-ups/<int:pk>/close/", views.follow_up_close, name="survey-follow-up-close"
    ),
    path("surveys/calls/", views.calls, name="survey-calls"),
    path("surveys/calls/<int:pk>/", views.call_script, name="survey-call"),
    path("surveys/audits/", views.audits, name="survey-audits"),
    path("surveys/audits/<int:pk>/", views.audit_fill, name="survey-audit-fill"),
    path("surveys/import/", views.ratings_import, name="survey-import"),
]
