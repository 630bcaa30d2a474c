"""Make an API token for a user: printed once, stored only as a digest."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import User


class Command(BaseCommand):
    help = _("Make an API token for a user (shown once; only its digest is kept).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, help=_("Expires after this many days."))

    def handle(self, *args, username: str, days: int | None, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": username})
        if days is not None and days < 1:
            raise CommandError(_("--days must be at least 1."))
        extra = {"expiry": timedelta(days=days)} if days else {}  # else API_TOKEN_DAYS
        instance, token = AuthToken.objects.create(user, **extra)
        self.stdout.write(token)
        self.stderr.write(
            _("Expires %(when)s. Keep it now: it cannot be shown again.")
            % {"when": instance.expiry.isoformat() if instance.expiry else _("never")}
        )
