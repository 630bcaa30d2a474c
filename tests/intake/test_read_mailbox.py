"""The mailbox reader: each new message goes through e-mail intake, then is marked read."""

import logging
import mailbox
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from intake.inbound import email_receive
from intake.management.commands import read_mailbox
from intake.models import InboundMessage
from requests_app.models import ServiceRequest
from tests.intake.helpers import EMAIL_ADDRESS, inbound_setup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


@pytest.fixture
def writer(customer):
    customer.email = "aigerim@example.kz"
    customer.save(update_fields=["email"])
    return customer


def mail(message_id, *, to=EMAIL_ADDRESS, subject="No internet") -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "aigerim@example.kz", to
    message["Subject"], message["Message-ID"] = subject, message_id
    message.set_content("Since this morning.")
    return message.as_bytes()


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "mail")


@pytest.fixture
def maildir(path):
    return mailbox.Maildir(path, create=True)


def test_new_messages_become_requests_and_move_to_cur_marked_seen(path, maildir, writer):
    key = maildir.add(mail("<a@example.kz>"))

    call_command("read_mailbox", maildir=path)

    request = ServiceRequest.objects.get()
    assert request.channel == ServiceRequest.Channel.EMAIL
    assert InboundMessage.objects.get().request == request
    message = maildir.get_message(key)
    assert message.get_subdir() == "cur"
    assert "S" in message.get_flags()


def test_a_failing_message_stays_new_and_is_logged(path, maildir, writer, caplog):
    good = maildir.add(mail("<good@example.kz>"))
    bad = maildir.add(mail("<bad@example.kz>", to="nobody@elsewhere.kz"))

    with caplog.at_level(logging.WARNING):
        call_command("read_mailbox", maildir=path)

    assert maildir.get_message(good).get_subdir() == "cur"
    assert maildir.get_message(bad).get_subdir() == "new"
    assert "not received" in caplog.text
    assert ServiceRequest.objects.count() == 1


def test_a_second_run_reads_nothing_again(path, maildir, writer):
    maildir.add(mail("<a@example.kz>"))
    call_command("read_mailbox", maildir=path)

    call_command("read_mailbox", maildir=path)

    assert ServiceRequest.objects.count() == 1


def test_a_message_received_before_a_crash_is_only_marked_read(path, maildir, writer):
    raw = mail("<a@example.kz>")
    key = maildir.add(raw)
    email_receive(raw=raw)  # by a run that stopped before marking it read

    call_command("read_mailbox", maildir=path)

    assert ServiceRequest.objects.count() == 1
    assert maildir.get_message(key).get_subdir() == "cur"


def test_a_path_that_is_no_maildir_is_refused(tmp_path):
    with pytest.raises(CommandError):
        call_command("read_mailbox", maildir=str(tmp_path / "missing"))


class FakeImap:
    """Just enough of IMAP4_SSL: two unread messages, the second for no client."""

    def __init__(self, host, port):
        self.messages = {b"1": mail("<i1@example.kz>"), b"2": mail("<i2@x>", to="x@y.kz")}
        self.seen: list[bytes] = []
        FakeImap.last = self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def login(self, user, password):
        assert (user, password) == ("intake", "s3cret")

    def select(self, folder):
        return "OK", [b"2"]

    def uid(self, command, *args):
        if command == "SEARCH":
            return "OK", [b" ".join(self.messages)]
        if command == "FETCH":
            return "OK", [(b"1 (BODY[] {100}", self.messages[args[0]]), b")"]
        self.seen.append(args[0])
        return "OK", []


def test_imap_marks_seen_only_what_was_received(monkeypatch, writer):
    monkeypatch.setattr(read_mailbox.imaplib, "IMAP4_SSL", FakeImap)
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "s3cret")

    call_command(
        "read_mailbox",
        imap_host="imap.example.kz",
        imap_user="intake",
        imap_password_env="INTAKE_IMAP_PASSWORD",
    )

    assert FakeImap.last.seen == [b"1"]
    assert ServiceRequest.objects.count() == 1
