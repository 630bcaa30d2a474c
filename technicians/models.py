"""Technicians, their skills, shifts and absences, and the visits they are assigned."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Deferrable, F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned
from core.db import Constraint
from requests_app.models import LAT, LON


class Skill(TenantOwned):
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="skill_code_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class Team(TenantOwned):
    """A crew under one lead: the unit the KPI reports compare (which team keeps its promises,
    who fixes it the first time)."""

    name = models.CharField(_("name"), max_length=120)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            # Two teams of one name would be one line twice in the report's filter.
            models.UniqueConstraint(fields=["tenant", "name"], name="team_name_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class Technician(TenantOwned):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="technician"
    )
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), blank=True)
    home_lat = models.FloatField(_("home latitude"), validators=LAT)
    home_lon = models.FloatField(_("home longitude"), validators=LON)
    territory = models.CharField(_("territory"), max_length=80, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="technicians",
    )
    active = models.BooleanField(_("active"), default=True)
    # Last reported position; falls back to home when never reported.
    last_lat = models.FloatField(null=True, blank=True, validators=LAT)
    last_lon = models.FloatField(null=True, blank=True, validators=LON)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Privacy by default: the phone shares its position only once the technician agrees (on the
    # phone), and then only between "on my way" and "arrived" (fieldwork.services).
    location_consent = models.BooleanField(_("shares location while en route"), default=False)
    location_consent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def position(self) -> tuple[float, float]:
        if self.last_lat is not None and self.last_lon is not None:
            return self.last_lat, self.last_lon
        return self.home_lat, self.home_lon


class Shift(TenantOwned):
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="shifts")
    date = models.DateField(_("date"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    lunch_minutes = models.PositiveSmallIntegerField(_("lunch break (minutes)"), default=0)
    # Where the planner placed the lunch break (written with the plan, shown on the day).
    break_start = models.DateTimeField(_("break from"), null=True, blank=True)
    break_end = models.DateTimeField(_("break until"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start"]
        indexes = [models.Index(fields=["technician", "start", "end"], name="shift_tech_time")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_not_empty"),
            models.UniqueConstraint(fields=["technician", "date"], name="shift_one_per_day"),
            # A placed break has both ends, in order.
            models.CheckConstraint(
                condition=Q(break_start__isnull=True, break_end__isnull=True)
                | Q(break_end__gt=F("break_start")),
                name="shift_break_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class Absence(TenantOwned):
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="absences")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="absence_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.start:%Y-%m-%d}"


# Visit statuses that hold the technician's time and the request.
ACTIVE_VISIT = ("scheduled", "accepted", "en_route", "on_site")


class Visit(TenantOwned):
    """The assignment of one request to one technician at a planned time."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ACCEPTED = "accepted", _("Accepted")
        EN_ROUTE = "en_route", _("En route")
        ON_SITE = "on_site", _("On site")
        COMPLETED = "completed", _("Completed")
        NOT_COMPLETED = "not_completed", _("Not completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Reason(models.TextChoices):
        NO_ACCESS = "no_access", _("No access to the premises")
        CUSTOMER_ABSENT = "customer_absent", _("Customer not at home")
        PARTS_MISSING = "parts_missing", _("Parts or equipment missing")
        NEEDS_OTHER_SKILL = "needs_other_skill", _("Needs another skill")
        NETWORK_FAULT = "network_fault", _("Fault is in the network, not at the customer")
        CUSTOMER_REFUSED = "customer_refused", _("Customer refused the work")
        OTHER = "other", _("Other")

    ACTIVE = ACTIVE_VISIT

    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.PROTECT, related_name="visits"
    )
    technician = models.ForeignKey(Technician, on_delete=models.PROTECT, related_name="visits")
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    sequence = models.PositiveSmallIntegerField(_("position in route"), default=0)
    travel_minutes = models.PositiveSmallIntegerField(_("travel (minutes)"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED
    )
    # A pinned visit is never moved by the engine; dispatchers pin, re-plans route around it.
    pinned = models.BooleanField(_("pinned"), default=False)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["planned_start"]
        indexes = [
            models.Index(fields=["technician", "planned_start"], name="visit_tech_start"),
            # Every emergency asks when each technician is done with the job in hand.
            models.Index(
                fields=["tenant"],
                name="visit_in_hand",
                condition=Q(status__in=["en_route", "on_site"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=F("planned_start")), name="visit_not_empty"
            ),
            # A request is served by at most one live visit at a time: a duplicate task delivery
            # or two racing workers cannot both assign it.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=ACTIVE_VISIT),
                name="visit_one_active_per_request",
            ),
            # No technician is in two places at once. The technician id is wrapped in a
            # one-point int8range so the constraint needs only core GiST range operator classes
            # (no btree_gist extension, which embedded PostgreSQL builds lack). Deferrable, so a
            # re-plan that rewrites a whole route may check it once, at commit.
            ExclusionConstraint(
                name=Constraint.VISIT_NO_OVERLAP,
                deferrable=Deferrable.IMMEDIATE,
                expressions=[
                    (
                        Func(
                            F("technician_id"),
                            F("technician_id"),
                            Value("[]"),
                            function="int8range",
                        ),
                        RangeOperators.OVERLAPS,
                    ),
                    (
                        Func(F("planned_start"), F("planned_end"), function="tstzrange"),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(status__in=ACTIVE_VISIT),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.technician}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
