"""ASGI entry point: WebSockets under /ws/ (HTTP is served by the WSGI app; see docs)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from dispatch.consumers import DispatcherConsumer, TechnicianConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/dispatch/", DispatcherConsumer.as_asgi()),
    path("ws/technician/", TechnicianConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
