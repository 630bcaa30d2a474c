from django.utils import timezone


class TenantTimezoneMiddleware:
    """Render dates in the signed-in user's tenant time zone (Asia/Almaty by default)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request.user, "tenant", None) if hasattr(request, "user") else None
        if tenant is not None:
            timezone.activate(tenant.zone)
        else:
            timezone.deactivate()
        return self.get_response(request)
