"""Feed a mailbox to inbound e-mail intake: a maildir, or an IMAP folder over SSL.

Each message goes through the same service as the e-mail webhook. A message is marked read only
after its transaction committed; one that fails stays unread for the next run and is logged.
"""

import imaplib
import logging
import mailbox
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from intake.inbound import Replayed, email_receive

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = gettext_lazy("Read new messages from a maildir or an IMAP folder into service requests.")

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help=_("Path of a maildir (new/ is read, then cur/)."))
        parser.add_argument("--imap-host")
        parser.add_argument("--imap-port", type=int, default=993)
        parser.add_argument("--imap-user")
        parser.add_argument(
            "--imap-password-env",
            metavar="VAR",
            help=_("The environment variable holding the password (never on the command line)."),
        )
        parser.add_argument("--imap-folder", default="INBOX")

    def handle(self, *args, **options):
        if bool(options["maildir"]) == bool(options["imap_host"]):
            raise CommandError(_("Give either --maildir or --imap-host."))
        if options["maildir"]:
            done, failed = self.read_maildir(options["maildir"])
        else:
            done, failed = self.read_imap(options)
        self.stdout.write(
            _("%(done)d message(s) received, %(failed)d left for the next run.")
            % {"done": done, "failed": failed}
        )

    def read_maildir(self, path: str) -> tuple[int, int]:
        if not os.path.isdir(os.path.join(path, "new")):
            raise CommandError(_("%(path)s is not a maildir.") % {"path": path})
        box = mailbox.Maildir(path, factory=None, create=False)
        done = failed = 0
        for key in list(box.keys()):
            message = box.get_message(key)
            if message.get_subdir() != "new":
                continue
            if not self.receive(box.get_bytes(key), name=key):
                failed += 1
                continue
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
            done += 1
        return done, failed

    def read_imap(self, options) -> tuple[int, int]:
        variable = options["imap_password_env"]
        password = os.environ.get(variable or "")
        if not options["imap_user"] or not password:
            raise CommandError(_("Give --imap-user and --imap-password-env naming a set variable."))
        done = failed = 0
        with imaplib.IMAP4_SSL(options["imap_host"], options["imap_port"]) as imap:
            imap.login(options["imap_user"], password)
            status, _data = imap.select(options["imap_folder"])
            if status != "OK":
                raise CommandError(
                    _("Cannot open the folder %(folder)s.") % {"folder": options["imap_folder"]}
                )
            _status, found = imap.uid("SEARCH", None, "UNSEEN")
            for uid in (found[0] or b"").split():
                # PEEK leaves the message unread until it was really received.
                _status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in data if isinstance(part, tuple)), b"")
                if not self.receive(raw, name=uid.decode()):
                    failed += 1
                    continue
                imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                done += 1
        return done, failed

    def receive(self, raw: bytes, *, name: str) -> bool:
        """Whether the message is dealt with (received now, or already before)."""
        try:
            email_receive(raw=raw)
        except Replayed:
            return True  # received by an earlier run that stopped before marking it read
        except DomainError as error:
            log.warning("message %s not received: %s", name, error.message)
            return False
        except Exception:
            # One broken message must not stop the others; it is retried next run.
            log.exception("message %s failed", name)
            return False
        return True
