"""What the reports keep: large exports made in the background (with their progress and the
file), the daily roll-up of the KPIs, and technicians' disputes of scorecard items."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned


class ExportJob(TenantOwned):
    """An export too large to stream while the manager waits: a worker writes the file through
    the storage API and counts its progress here, which the page polls."""

    class Kind(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    # The report's query (kpi, part, period, filters) as the API validated it.
    query = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # How many times a worker took it: the reconciler gives up on an export that keeps
    # stopping its worker (EXPORT_MAX_ATTEMPTS) instead of re-driving it for ever.
    attempts = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("KPI export")
        verbose_name_plural = _("KPI exports")
        ordering = ["-created_at"]
        constraints = [
            # A percentage, and a finished export has its file.
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(file=""), name="export_done_has_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class DailyKpi(TenantOwned):
    """One rate KPI of one day of the tenant's calendar, by category and channel: the roll-up
    that beat refreshes each night, so a year's report sums rows instead of reading every
    request. Today is always computed live."""

    day = models.DateField()
    kpi = models.CharField(max_length=40)
    category = models.CharField(max_length=20)
    channel = models.CharField(max_length=16)
    hits = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("daily KPI")
        verbose_name_plural = _("daily KPIs")
        constraints = [
            # A refresh replaces a day's rows; two rows for one cell would count it twice.
            models.UniqueConstraint(
                fields=["tenant", "day", "kpi", "category", "channel"], name="daily_kpi_unique"
            ),
            models.CheckConstraint(condition=Q(hits__lte=models.F("total")), name="daily_kpi_hits"),
        ]
        indexes = [models.Index(fields=["tenant", "kpi", "day"], name="daily_kpi_read")]


class Dispute(TenantOwned):
    """A technician's objection to an item of their scorecard (a request counted against them),
    and the manager's answer."""

    technician = models.ForeignKey(
        "technicians.Technician", on_delete=models.CASCADE, related_name="kpi_disputes"
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.CASCADE, related_name="kpi_disputes"
    )
    kpi = models.CharField(_("figure"), max_length=40)
    note = models.TextField(_("note"), max_length=2000)
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    upheld = models.BooleanField(_("upheld"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard dispute")
        verbose_name_plural = _("scorecard disputes")
        ordering = ["-created_at"]
        constraints = [
            # One open objection per item: a second one would ask the manager twice.
            models.UniqueConstraint(
                fields=["technician", "request", "kpi"], name="dispute_once_per_item"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="dispute_answered_with_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.request_id}"


class PromiseRisk(TenantOwned):
    """The moment a plan stopped keeping an agreed window, and why: written by the services
    that break one (`requests_flag_window_risk`, called by the emergency engine's pushes and by
    a late arrival's), read first when a promise miss is explained (docs/kpis.md)."""

    class Cause(models.TextChoices):
        NOT_ASSIGNED = "not_assigned", _("Nobody was sent")
        TECHNICIAN_ABSENT = "technician_absent", _("Technician absent")
        EMERGENCY_BREAK_IN = "emergency_break_in", _("Emergency break-in")
        DISPATCHER_CHANGE = "dispatcher_change", _("Dispatcher change")
        CUSTOMER_RESCHEDULED = "customer_rescheduled", _("Customer rescheduled")
        PREVIOUS_JOB_OVERRAN = "previous_job_overran", _("Previous job overran")
        TRAVEL = "travel", _("Travel")

    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.CASCADE, related_name="promise_risks"
    )
    technician = models.ForeignKey(
        "technicians.Technician", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices)
    # The window as it was when the plan broke it (a reschedule may move it later).
    window_end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("broken promise")
        verbose_name_plural = _("broken promises")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["request", "created_at"], name="promise_risk_request")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.cause}"
