from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.utils.translation import gettext_lazy as _

from core.pusher import on_logout
from core.tenancy import connect_receiver


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        user_logged_out.connect(on_logout, dispatch_uid="close-sockets-on-logout")
        connect_receiver()  # application processes work as the role row-level security binds
