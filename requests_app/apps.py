from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from requests_app.numbering import tenant_numbering_start


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        post_save.connect(
            tenant_numbering_start, sender="accounts.Tenant", dispatch_uid="request-numbers"
        )
