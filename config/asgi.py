"""ASGI entry point: WebSockets under /ws/ (HTTP is served by the WSGI app; see docs)."""

import os

from django.core.asgi import get_asgi_application

from core.observability import metrics_dir_reset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# uvicorn runs this one process per service (no --workers): its sockets' gauge starts from zero.
metrics_dir_reset()
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from contacts.consumers import ContactCenterConsumer, VisitorConsumer  # noqa: E402
from core.tenancy import app_role_enable  # noqa: E402
from dispatch.consumers import (  # noqa: E402
    DispatcherConsumer,
    NoSuchSocket,
    TechnicianConsumer,
)

app_role_enable()

websocket_urlpatterns = [
    path("ws/dispatch/", DispatcherConsumer.as_asgi()),
    path("ws/technician/", TechnicianConsumer.as_asgi()),
    path("ws/contacts/", ContactCenterConsumer.as_asgi()),
    re_path(r"", NoSuchSocket.as_asgi()),
]


def websockets(allowed_origins: list[str]):
    """The socket side: only pages from `allowed_origins` (scheme, host and port) may open one.
    A web-chat visitor's socket is the exception: it is opened from the client's own site, uses
    no cookie of ours (the signed token names its one conversation), and so any origin may."""
    guarded = OriginValidator(
        AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), allowed_origins
    )
    return URLRouter([path("ws/chat/", VisitorConsumer.as_asgi()), re_path(r"", guarded)])


application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": websockets(settings.WS_ALLOWED_ORIGINS)}
)
