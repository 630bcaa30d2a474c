"""Provider webhooks: inbound e-mail, SMS and IVR (signed, replay-protected, rate limited)."""

from django.conf import settings
from django.urls import include, path

from intake import webhooks

urlpatterns = [
    path("sms/", webhooks.sms, name="hook-sms"),
    path("ivr/", webhooks.ivr, name="hook-ivr"),
    path("ivr/callback/", webhooks.ivr_callback, name="hook-ivr-callback"),
    path("email/", webhooks.email, name="hook-email"),
]
# The e-mail providers' inbound webhooks, only with their shared secret set: anymail would take
# unauthenticated posts without it.
if settings.ANYMAIL["WEBHOOK_SECRET"]:
    urlpatterns.append(path("anymail/", include("anymail.urls")))
