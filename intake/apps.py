from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake channels")

    def ready(self) -> None:
        # Django's way to connect a receiver that reads models: import it once apps are ready.
        from anymail.signals import inbound as anymail_inbound

        from intake.providers import email_from_provider

        anymail_inbound.connect(email_from_provider, dispatch_uid="intake-email-from-provider")
