import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from core.tenancy import app_role_enable  # noqa: E402  (needs the settings)

app_role_enable()
