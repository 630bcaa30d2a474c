from django.contrib import admin

from surveys.models import Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["visit", "tenant", "channel", "score", "nps", "sent_at", "answered_at"]
    list_filter = ["tenant", "channel", "score"]
    raw_id_fields = ["visit"]
