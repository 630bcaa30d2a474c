"""What the technician's phone records: the actions it replays (applied once each), proof of
work (resolution, checklist, parts, photos, signature), call attempts and positions en route."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned
from requests_app.models import LAT, LON
from technicians.models import Technician, Visit


def _upload_to(instance, filename: str) -> str:
    # A random name: a file's address tells nothing about the job or the customer.
    extension = filename.rpartition(".")[2].lower() or "bin"
    return f"fieldwork/{instance.tenant_id}/{uuid.uuid4().hex}.{extension}"


class Part(TenantOwned):
    """The tenant's catalogue of parts a technician may record as used."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=16, default="pcs")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="part_code_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class ClientAction(TenantOwned):
    """One action a phone queued (a step, a note, a photo…), named by the phone's own id. The
    same id replayed again is answered from here, never applied twice; a conflict is kept too,
    so a replay reports the same refusal."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        CONFLICT = "conflict", _("Not applied (conflict)")

    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="+")
    client_id = models.UUIDField()
    kind = models.CharField(max_length=16)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="client_actions")
    # When it happened on the phone, and when the server applied it (they differ offline).
    happened_at = models.DateTimeField()
    applied_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    code = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("phone action")
        verbose_name_plural = _("phone actions")
        ordering = ["applied_at", "pk"]
        constraints = [
            # A replayed action is applied once: concurrent replays meet here.
            models.UniqueConstraint(
                fields=["technician", "client_id"], name="client_action_once_per_technician"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id} ({self.outcome})"


class ProofOfWork(TenantOwned):
    """How a visit ended, as the technician recorded it on site."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="proof")
    resolution = models.CharField(_("resolution"), max_length=40, blank=True)
    checklist = models.JSONField(_("checklist done"), default=list, blank=True)
    signature = models.FileField(_("customer's signature"), upload_to=_upload_to, blank=True)
    signed_by = models.CharField(_("signed by"), max_length=120, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("proof of work")
        verbose_name_plural = _("proofs of work")

    def __str__(self) -> str:
        return f"{self.visit_id}: {self.resolution}"


class VisitPhoto(TenantOwned):
    class Kind(models.TextChoices):
        WORK = "work", _("Work done")
        EVIDENCE = "evidence", _("Evidence (could not complete)")

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WORK)
    file = models.FileField(upload_to=_upload_to)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["taken_at", "pk"]

    def __str__(self) -> str:
        return self.file.name


class PartUsed(TenantOwned):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="parts_used")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        constraints = [
            # A part is listed once per visit: the phone sends the quantity, not increments.
            models.UniqueConstraint(fields=["visit", "part"], name="part_used_once_per_visit"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="part_used_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"


class CallAttempt(TenantOwned):
    """The technician called the customer (evidence for "customer absent")."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="call_attempts")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.visit_id} @ {self.at:%H:%M}"


class LocationPing(TenantOwned):
    """A position a phone shared while en route (with consent); purged after a retention."""

    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="+")
    lat = models.FloatField(validators=LAT)
    lon = models.FloatField(validators=LON)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("location ping")
        verbose_name_plural = _("location pings")
        indexes = [models.Index(fields=["visit", "-received_at"], name="ping_visit_latest")]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.lat:.5f},{self.lon:.5f}"
