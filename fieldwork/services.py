"""Writes from the technician's phone: queued actions replayed once each, proof of work,
positions en route, and what the customer is told about the technician coming."""

import base64
import binascii
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from core.db import LockScope, advisory_xact_lock
from core.errors import Conflict, DomainError, IllegalTransition
from core.tenancy import every_tenant
from fieldwork.catalog import checklist_for, resolutions_for
from fieldwork.links import live_url, report_url
from fieldwork.models import (
    CallAttempt,
    ClientAction,
    LocationPing,
    Part,
    PartUsed,
    ProofOfWork,
    VisitPhoto,
)
from fieldwork.selectors import visit_eta
from notifications.models import Notification
from notifications.services import notification_enqueue
from requests_app.models import ServiceRequest
from requests_app.services import (
    customer_language,
    customer_message,
    request_changed,
    request_noted,
)
from technicians.models import Shift, Technician, Visit
from technicians.services import Guarded, visit_transition

VisitStatus = Visit.Status
ORPHAN_BATCH = 1000
KINDS = ("step", "note", "photo", "signature", "parts", "call")
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
SIGNATURE_MAX_BYTES = 300_000


class Reassigned(Conflict):
    code = "reassigned"

    @classmethod
    def default_message(cls) -> str:
        return _("This job was given to another technician.")


class Cancelled(Conflict):
    code = "cancelled"

    @classmethod
    def default_message(cls) -> str:
        return _("This job was cancelled.")


def _result(action: dict, outcome: str, status: int, error: DomainError | None = None) -> dict:
    result = {"client_id": str(action.get("client_id", "")), "outcome": outcome, "status": status}
    if error is not None:
        result.update(code=error.code, detail=error.message, **error.extra)
    return result


def actions_apply(*, technician: Technician, actions: list[dict], actor: User) -> list[dict]:
    """Apply a phone's queued actions in their order, each once. One that needs the
    technician's confirmation (`guard`) stops the replay there: the actions after it are left
    `pending` on the phone, which asks and sends them again."""
    results = []
    for index, action in enumerate(actions):
        result = action_apply(technician=technician, action=action, actor=actor)
        results.append(result)
        if result["outcome"] == "guard":
            results += [_result(later, "pending", 202) for later in actions[index + 1 :]]
            break
    return results


def action_apply(*, technician: Technician, action: dict, actor: User) -> dict:
    """One queued action (validated: `client_id`, `kind`, `visit`, `at`, and its own fields).
    Applied → recorded with the phone's time and the server's; the same `client_id` again →
    `duplicate`, nothing applied; a conflict (the job was reassigned, cancelled or moved on)
    → recorded, written in the request's history for dispatchers, and answered 409 again on
    every replay; never dropped silently."""
    with transaction.atomic():
        # One technician's replays take turns (two tabs, a retry racing the first try).
        advisory_xact_lock(LockScope.PHONE_ACTIONS, technician.pk)
        done = ClientAction.objects.filter(
            technician=technician, client_id=action["client_id"]
        ).first()
        if done is not None:
            return _replayed(action, done)
        visit = (
            Visit.objects.for_tenant(technician.tenant_id)
            .select_related("request")
            .filter(pk=action["visit"])
            .first()
        )
        if visit is None:
            return _result(action, "invalid", 404, DomainError(_("No such job.")))
        try:
            with transaction.atomic():
                if visit.technician_id != technician.pk:
                    raise Reassigned()
                if visit.status == VisitStatus.CANCELLED:
                    raise Cancelled()
                APPLY[action["kind"]](visit=visit, action=action, actor=actor)
        except Guarded as error:
            return _result(action, "guard", 409, error)
        except (IllegalTransition, Conflict) as error:
            _record(technician, action, visit, ClientAction.Outcome.CONFLICT, error)
            _tell_dispatchers(technician, action, visit, error)
            return _result(action, "conflict", 409, error)
        except DomainError as error:
            return _result(action, "invalid", error.status_code, error)
        _record(technician, action, visit, ClientAction.Outcome.APPLIED)
    return _result(action, "applied", 200)


def _replayed(action: dict, done: ClientAction) -> dict:
    if done.outcome == ClientAction.Outcome.CONFLICT:
        error = Conflict(done.detail)
        error.code = done.code
        return {**_result(action, "conflict", 409, error), "duplicate": True}
    return {**_result(action, "duplicate", 200), "applied_at": done.applied_at.isoformat()}


def _record(technician, action, visit, outcome, error: DomainError | None = None) -> None:
    ClientAction.objects.create(
        tenant_id=technician.tenant_id,
        technician=technician,
        client_id=action["client_id"],
        kind=action["kind"],
        visit=visit,
        happened_at=action["at"],
        outcome=outcome,
        code=error.code if error else "",
        detail=error.message[:300] if error else "",
    )


def _tell_dispatchers(technician, action, visit: Visit, error: DomainError) -> None:
    """A row in the request's history and a live event: the board sees what the phone did."""
    request = ServiceRequest.objects.select_for_update().get(pk=visit.request_id)
    time = formats.time_format(timezone.localtime(action["at"]), "H:i")
    what = action.get("to") or action["kind"]
    request_noted(
        request=request,
        actor=technician.user,
        reason=_("Not applied from %(name)s's phone (%(what)s at %(time)s): %(detail)s")
        % {"name": technician, "what": what, "time": time, "detail": error.message},
    )
    request_changed(request=request)


def _step(*, visit: Visit, action: dict, actor: User) -> None:
    to = action.get("to")
    if to is None:
        raise DomainError(_("Say which step."), field="to")
    category = visit.request.category
    resolution, checklist = action.get("resolution", ""), action.get("checklist", [])
    if to == VisitStatus.COMPLETED and resolution not in dict(resolutions_for(category)):
        raise DomainError(_("Choose how the job was resolved."), field="resolution")
    if not set(checklist) <= set(dict(checklist_for(category))):
        raise DomainError(_("Unknown checklist item."), field="checklist")
    visit_transition(
        visit=visit,
        to=to,
        actor=actor,
        reason=action.get("reason", ""),
        note=action.get("note", ""),
        at=action["at"],
        confirm=action.get("confirm", False),
        why=action.get("why", ""),
    )
    if to == VisitStatus.COMPLETED or checklist:
        proof = _proof(visit)
        proof.resolution = resolution or proof.resolution
        proof.checklist = checklist or proof.checklist
        proof.save()


def _proof(visit: Visit) -> ProofOfWork:
    proof, _created = ProofOfWork.objects.select_for_update().get_or_create(
        visit=visit, defaults={"tenant_id": visit.tenant_id}
    )
    return proof


def _note(*, visit: Visit, action: dict, actor: User) -> None:
    text = action.get("note", "").strip()
    if not text:
        raise DomainError(_("The note is empty."), field="note")
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    stamp = formats.time_format(timezone.localtime(action["at"]), "H:i")
    visit.note = f"{visit.note}\n{stamp} {text}".strip()[:10000]
    visit.save(update_fields=["note", "updated_at"])


def _decoded(data: str, *, limit: int, field: str, allowed: tuple[str, ...]) -> tuple[bytes, str]:
    """An image sent as a data URL (`data:image/jpeg;base64,…`): its bytes and type, checked
    by their first bytes, not by what the phone said."""
    _head, comma, payload = data.partition(",")
    try:
        content = base64.b64decode(payload if comma else data, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(_("The image is not readable."), field=field) from None
    if len(content) > limit:
        raise DomainError(
            _("The image is too large (%(size)s kB, at most %(limit)s kB).")
            % {"size": len(content) // 1000, "limit": limit // 1000},
            field=field,
        )
    kind = next((t for magic, t in IMAGE_TYPES.items() if content.startswith(magic)), None)
    if kind not in allowed:
        raise DomainError(
            _("Only %(types)s images are accepted.")
            % {"types": ", ".join(t.split("/")[1].upper() for t in allowed)},
            field=field,
        )
    return content, kind


def _photo(*, visit: Visit, action: dict, actor: User) -> None:
    content, kind = _decoded(
        action.get("data", ""),
        limit=settings.PHOTO_MAX_BYTES,
        field="data",
        allowed=("image/jpeg", "image/png"),
    )
    photo = VisitPhoto(
        tenant_id=visit.tenant_id,
        visit=visit,
        kind=action.get("photo_kind") or VisitPhoto.Kind.WORK,
        content_type=kind,
        size=len(content),
        taken_at=action["at"],
    )
    photo.file.save(f"photo.{kind.split('/')[1]}", ContentFile(content), save=False)
    photo.save()


def _signature(*, visit: Visit, action: dict, actor: User) -> None:
    content, _kind = _decoded(
        action.get("data", ""), limit=SIGNATURE_MAX_BYTES, field="data", allowed=("image/png",)
    )
    proof = _proof(visit)
    proof.signature.save("signature.png", ContentFile(content), save=False)
    proof.signed_by = action.get("signer", "")[:120]
    proof.signed_at = action["at"]
    proof.save()


def _parts(*, visit: Visit, action: dict, actor: User) -> None:
    lines = action.get("parts") or []
    if not lines:
        raise DomainError(_("List the parts used."), field="parts")
    catalogue = {
        part.code: part
        for part in Part.objects.for_tenant(visit.tenant_id).filter(
            code__in=[line["part"] for line in lines], active=True
        )
    }
    for line in lines:
        part = catalogue.get(line["part"])
        if part is None:
            raise DomainError(_("Unknown part: %(code)s.") % {"code": line["part"]}, field="parts")
        quantity = Decimal(line["quantity"])
        if quantity == 0:
            PartUsed.objects.filter(visit=visit, part=part).delete()
        else:
            PartUsed.objects.update_or_create(
                visit=visit,
                part=part,
                defaults={"tenant_id": visit.tenant_id, "quantity": quantity},
            )


def _call(*, visit: Visit, action: dict, actor: User) -> None:
    CallAttempt.objects.create(
        tenant_id=visit.tenant_id, visit=visit, at=action["at"], note=action.get("note", "")[:300]
    )


APPLY = {
    "step": _step,
    "note": _note,
    "photo": _photo,
    "signature": _signature,
    "parts": _parts,
    "call": _call,
}


class LocationRefused(Conflict):
    code = "location_refused"


@transaction.atomic
def technician_consent_set(*, technician: Technician, location: bool) -> Technician:
    """The technician agrees (or stops agreeing) to share their position while en route."""
    technician = Technician.objects.select_for_update().get(pk=technician.pk)
    technician.location_consent = location
    technician.location_consent_at = timezone.now()
    technician.save(update_fields=["location_consent", "location_consent_at"])
    return technician


@transaction.atomic
def location_record(
    *, technician: Technician, visit: Visit, lat: float, lon: float, accuracy: int | None = None
) -> dict:
    """A position from the phone, taken only with the technician's consent, only between
    "on my way" and "arrived", only on shift, and at most once per
    LOCATION_MIN_INTERVAL_SECONDS (more is answered, not stored). Answers the ETA and whether
    the technician is close enough to say "arrived"; tells the customer once when the ETA
    passes the end of the agreed window."""
    now = timezone.now()
    technician = Technician.objects.select_for_update().get(pk=technician.pk)
    if not technician.location_consent:
        raise LocationRefused(_("Location sharing is off."), extra={"reason": "no_consent"})
    if visit.status != VisitStatus.EN_ROUTE:
        raise LocationRefused(
            _("The position is shared only on the way to a job."), extra={"reason": "not_en_route"}
        )
    on_shift = Shift.objects.filter(technician=technician, start__lte=now, end__gte=now).exists()
    if not on_shift:
        raise LocationRefused(_("You are off shift."), extra={"reason": "off_shift"})
    seen = technician.last_seen_at
    stored = seen is None or (now - seen).total_seconds() >= settings.LOCATION_MIN_INTERVAL_SECONDS
    if stored:
        LocationPing.objects.create(
            tenant_id=technician.tenant_id,
            technician=technician,
            visit=visit,
            lat=lat,
            lon=lon,
            accuracy_m=accuracy,
            at=now,
        )
        Technician.objects.filter(pk=technician.pk).update(
            last_lat=lat, last_lon=lon, last_seen_at=now
        )
    eta, metres = visit_eta(visit, (lat, lon), now=now)
    request = visit.request
    if stored and request.window_end and eta > request.window_end:
        _late_notice(visit, eta)
    return {
        "stored": stored,
        "eta": timezone.localtime(eta).isoformat(),
        "eta_minutes": max(0, round((eta - now).total_seconds() / 60)),
        "distance_m": metres,
        "near": metres <= settings.ARRIVAL_RADIUS_M,
    }


def _tell_customer(visit: Visit, *, kind: str, body: str) -> Notification | None:
    return notification_enqueue(
        **customer_message(visit.request, body=body, kind=kind, dedupe_key=f"{kind}:{visit.pk}")
    )


def _words(visit: Visit, eta: datetime | None = None) -> dict:
    request = visit.request
    return {
        "tenant": request.tenant.name,
        "number": request.number,
        "name": visit.technician.user.first_name,
        "time": formats.time_format(timezone.localtime(eta, request.tenant.zone), "H:i")
        if eta
        else "",
        "link": live_url(visit),
    }


def _late_notice(visit: Visit, eta: datetime) -> None:
    with override(customer_language(visit.request)):
        body = _(
            "%(tenant)s: %(name)s is running late for %(number)s, now expected around "
            "%(time)s. Follow the way: %(link)s"
        ) % _words(visit, eta)
    _tell_customer(visit, kind="eta_late", body=body)


def _visit_for_message(visit_id: int) -> Visit | None:
    return (
        Visit.objects.select_related("request__tenant", "request__customer", "technician__user")
        .filter(pk=visit_id)
        .first()
    )


def customer_told_on_my_way(*, visit_id: int) -> Notification | None:
    """ "On my way": the technician's first name, the arrival time, the live link. Once per
    visit (the outbox's key)."""
    visit = _visit_for_message(visit_id)
    if visit is None or visit.status != VisitStatus.EN_ROUTE:
        return None
    eta, _metres = visit_eta(visit, visit.technician.position, now=timezone.now())
    with override(customer_language(visit.request)):
        body = _(
            "%(tenant)s: %(name)s is on the way to you for %(number)s, arriving around "
            "%(time)s. Follow the way: %(link)s"
        ) % _words(visit, eta)
    return _tell_customer(visit, kind="on_my_way", body=body)


def customer_told_assigned(*, visit_id: int) -> Notification | None:
    """An emergency's customer hears that someone is assigned and about when they arrive."""
    visit = _visit_for_message(visit_id)
    if visit is None or not visit.is_active:
        return None
    with override(customer_language(visit.request)):
        body = _(
            "%(tenant)s: a technician is assigned to %(number)s, arriving around %(time)s. "
            "Follow: %(link)s"
        ) % _words(visit, visit.planned_start)
    return _tell_customer(visit, kind="emergency_assigned", body=body)


def customer_sent_report(*, visit_id: int) -> Notification | None:
    visit = _visit_for_message(visit_id)
    if visit is None or visit.status != VisitStatus.COMPLETED:
        return None
    words = {**_words(visit), "link": report_url(visit)}
    with override(customer_language(visit.request)):
        body = _("%(tenant)s: the job %(number)s is done. Your service report: %(link)s") % words
    return _tell_customer(visit, kind="service_report", body=body)


def proof_files_orphaned_purge(*, older_than: datetime) -> int:
    """Delete stored photos and signatures no row refers to, written before `older_than`.

    A file is saved to storage before its row commits (storage is not transactional), so a
    replay that fails after the save leaves a file behind. The sweep waits long enough
    that no transaction still writing one is open. It reads in every tenant's scope itself:
    with none, no row would be found and every file would look orphaned."""
    storage = default_storage
    try:
        tenants, _files = storage.listdir("fieldwork")
    except FileNotFoundError:
        return 0
    deleted = 0
    for tenant in tenants:
        folder = f"fieldwork/{tenant}"
        paths = [f"{folder}/{name}" for name in storage.listdir(folder)[1]]
        for start in range(0, len(paths), ORPHAN_BATCH):
            batch = paths[start : start + ORPHAN_BATCH]
            with every_tenant():
                kept = set(VisitPhoto.objects.filter(file__in=batch).values_list("file", flat=True))
                kept |= set(
                    ProofOfWork.objects.filter(signature__in=batch).values_list(
                        "signature", flat=True
                    )
                )
            for path in batch:
                if path not in kept and storage.get_modified_time(path) < older_than:
                    storage.delete(path)
                    deleted += 1
    return deleted
