"""Provider webhooks: inbound e-mail, SMS and IVR (signed, replay-protected, rate limited)."""

from django.urls import path

from intake import webhooks

urlpatterns = [
    path("sms/", webhooks.sms, name="hook-sms"),
    path("ivr/", webhooks.ivr, name="hook-ivr"),
    path("email/", webhooks.email, name="hook-email"),
]
