"""Reading an inbound e-mail (raw RFC 822 bytes) into the few facts intake needs.

Pure parsing, no database: who wrote, to which addresses, the replay key, and the text.
"""

import hashlib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from core.errors import DomainError

# Where the envelope recipient is found first (set by the MTA), then what the sender wrote.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
MAX_TEXT = 4000
# A fax arrives as an e-mail with the pages as a PDF; larger files are not kept.
MAX_ATTACHMENT = 10 * 1024 * 1024


class Malformed(DomainError):
    code = "malformed"


@dataclass(frozen=True)
class Mail:
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    automatic: bool
    # PDF attachments (file name, bytes): a fax's pages.
    pdfs: tuple[tuple[str, bytes], ...] = ()

    @property
    def description(self) -> str:
        return "\n\n".join(part for part in (self.subject, self.text) if part)[:MAX_TEXT]


def mail_read(raw: bytes) -> Mail:
    """The facts of one message; Malformed when it lacks a sender, a recipient or a Message-ID."""
    if not raw or not raw.strip():
        raise Malformed(_("The message is empty."))
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        message_id = _header(message, "Message-ID")
        senders = _addresses(message, ("From",))
        recipients = _addresses(message, RECIPIENT_HEADERS)
        subject = _header(message, "Subject")
        automatic = _automatic(message)
    # The stdlib parser is lenient, but header objects of hostile input have raised all sorts
    # of errors over the years; an unreadable header is the sender's fault, never a 500.
    except Exception as error:
        raise Malformed(_("The message headers cannot be read.")) from error
    if not message_id:
        raise Malformed(_("The message has no Message-ID."))
    if not senders:
        raise Malformed(_("The message has no valid sender address."))
    if not recipients:
        raise Malformed(_("The message has no recipient address."))
    return Mail(
        message_id=_message_key(message_id),
        sender=senders[0],
        recipients=recipients,
        subject=subject[:300],
        text=_text(message)[:MAX_TEXT],
        automatic=automatic or senders[0].startswith(("mailer-daemon@", "postmaster@")),
        pdfs=_pdfs(message),
    )


def _clean(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters.
    return value.replace("\x00", "").strip()


def _header(message: EmailMessage, name: str) -> str:
    return _clean(str(message.get(name) or ""))


def _addresses(message: EmailMessage, names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        values = [str(value) for value in message.get_all(name) or []]
        for _name, address in getaddresses(values):
            address = _clean(address).lower()
            try:
                validate_email(address)
            except ValidationError:
                continue
            if address not in found:
                found.append(address)
    return found


def _message_key(message_id: str) -> str:
    """The replay key: the Message-ID as written, or its digest when too long to index."""
    if len(message_id) <= 200:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def _automatic(message: EmailMessage) -> bool:
    """Auto-replies, bounces and list mail (RFC 3834): answering them could start a mail loop."""
    submitted = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (submitted not in ("", "no")) or precedence in ("bulk", "junk", "list")


def _pdfs(message: EmailMessage) -> tuple[tuple[str, bytes], ...]:
    """The PDF attachments that decode and fit; anything broken is left out, never a 500."""
    found = []
    try:
        for part in message.iter_attachments():
            if part.get_content_type() != "application/pdf":
                continue
            data = part.get_payload(decode=True) or b""
            if data.startswith(b"%PDF") and len(data) <= MAX_ATTACHMENT:
                name = _clean(part.get_filename() or "fax.pdf")[:100]
                found.append((name, data))
    except Exception:
        return ()
    return tuple(found[:5])


def _text(message: EmailMessage) -> str:
    """The plain-text body, or the HTML one without its tags; empty when undecodable."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
        if not isinstance(content, str):
            return ""
        if part.get_content_subtype() == "html":
            content = strip_tags(content)
    # An unknown charset or a broken transfer encoding leaves the subject to go by.
    except Exception:
        return ""
    return _clean(content)
