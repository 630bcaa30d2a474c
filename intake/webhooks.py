"""Provider webhooks: SMS and IVR (Twilio-style form posts) and inbound e-mail (raw RFC 822).

Thin: verify the signature over the raw body, then rate limit (signed and refused requests
are counted apart), hand the fields to the inbound service, render its answer. Bad input gets a
4xx and leaves nothing behind.
"""

import codecs
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts.models import ContactPoint
from core.errors import DomainError
from intake import inbound
from intake.limits import webhook_rate
from intake.mail import Malformed
from intake.signatures import UNREADABLE, signed

# Over the limit, RatelimitMiddleware answers with RATELIMIT_VIEW's 429.
rate_limited = ratelimit(key="ip", rate=webhook_rate, method="POST", block=True)


@csrf_exempt
@require_POST
@signed("SMS_WEBHOOK_SECRET", kind=ContactPoint.Kind.SMS)
@rate_limited
def sms(request: HttpRequest) -> HttpResponse:
    try:
        form = _form(request)
        received = inbound.sms_receive(
            message_id=form.get("MessageSid"),
            sender=form.get("From"),
            to=form.get("To"),
            body=form.get("Body"),
        )
    except DomainError as error:
        return _refusal(error)
    return _twiml(f"<Message>{escape(received.reply)}</Message>")


@csrf_exempt
@require_POST
@signed("IVR_WEBHOOK_SECRET", kind=ContactPoint.Kind.PHONE)
@rate_limited
def ivr(request: HttpRequest) -> HttpResponse:
    try:
        form = _form(request)
        received = inbound.ivr_receive(
            call_id=form.get("CallSid"),
            caller=form.get("From"),
            to=form.get("To"),
            digits=form.get("Digits"),
            # A keypad survey: the step is in the form (HMAC gateways) or in the address the
            # previous answer's Gather posts to (Twilio signs the address too).
            survey=form.get("Survey", request.GET.get("Survey")),
            agent=form.get("Agent"),
        )
    except DomainError as error:
        return _refusal(error)
    say = f"<Say>{escape(received.reply)}</Say>"
    if received.survey_step is not None:
        action = escape(f"{request.path}?Survey={received.survey_step}")
        gather = f'numDigits="{received.survey_digits}" finishOnKey="#" action="{action}"'
        return _twiml(f"<Gather {gather}>{say}</Gather>")
    return _twiml(f'<Gather numDigits="1">{say}</Gather>' if received.ask_again else say)


@csrf_exempt
@require_POST
@signed("IVR_WEBHOOK_SECRET", kind=ContactPoint.Kind.PHONE)
@rate_limited
def ivr_callback(request: HttpRequest) -> HttpResponse:
    """The IVR's "call me back" branch: the caller's number joins the operators' queue."""
    try:
        form = _form(request)
        received = inbound.ivr_callback_receive(
            call_id=form.get("CallSid"), caller=form.get("From"), to=form.get("To")
        )
    except DomainError as error:
        return _refusal(error)
    return _twiml(f"<Say>{escape(received.reply)}</Say>")


@csrf_exempt
@require_POST
@signed("EMAIL_WEBHOOK_SECRET")
@rate_limited
def email(request: HttpRequest) -> HttpResponse:
    try:
        received = inbound.email_receive(raw=request.body)
    except DomainError as error:
        return JsonResponse({"error": error.message}, status=error.status_code)
    request_id = received.request.pk if received.request else None
    return JsonResponse({"request": request_id, "outcome": received.outcome})


def _form(request: HttpRequest):
    """The posted fields, read strictly: Django would replace what it cannot decode and let a
    garbled report through; an unknown charset or a broken byte sequence is refused instead."""
    charset = request.content_params.get("charset", "utf-8")
    try:
        codecs.lookup(charset)
        if request.content_type == "application/x-www-form-urlencoded":
            body = request.body.decode("ascii")  # percent-encoded: nothing else belongs here
            parse_qsl(body, keep_blank_values=True, encoding=charset, errors="strict")
        return request.POST
    # A broken multipart body, or a form declared in another charset than UTF-8.
    except UNREADABLE:
        raise Malformed(_("The form data cannot be read.")) from None


def _twiml(inner: str) -> HttpResponse:
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
        content_type="application/xml; charset=utf-8",
    )


def _refusal(error: DomainError) -> HttpResponse:
    return HttpResponse(
        error.message, status=error.status_code, content_type="text/plain; charset=utf-8"
    )
