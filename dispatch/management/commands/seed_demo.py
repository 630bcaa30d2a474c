"""A realistic demo city: two clients, 40 technicians in teams, shifts today and tomorrow, 300
requests, and three months of finished work behind them for the KPI reports."""

import random
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import ContactPoint, Role, Tenant, User
from contacts.demo import seed_contacts
from reports.demo import seed_kpi_history, seed_teams
from requests_app.booking import request_create
from requests_app.models import Customer, ServiceRequest
from surveys.demo import seed_surveys
from technicians.models import Shift, Skill, Technician
from technicians.services import visit_create

PASSWORD = "demo12345"  # noqa: S105 — demo only; the command refuses to run outside DEBUG
CENTER = (43.2380, 76.8890)  # Almaty
SKILLS = [
    ("fiber", "Fibre optics"),
    ("copper", "Copper lines"),
    ("tv", "IPTV"),
    ("router", "Routers and Wi-Fi"),
    ("business", "Business lines"),
]
FIRST = [
    "Aidos",
    "Dana",
    "Yerlan",
    "Aigerim",
    "Nurlan",
    "Madina",
    "Arman",
    "Saule",
    "Timur",
    "Asel",
    "Daniyar",
    "Zhanna",
    "Ruslan",
    "Aliya",
    "Bauyrzhan",
    "Olga",
    "Sergei",
    "Irina",
]
LAST = [
    "Abenov",
    "Nurlanov",
    "Seitkali",
    "Ivanov",
    "Petrov",
    "Tulegenov",
    "Kim",
    "Akhmetov",
    "Zhaksybekov",
    "Smagulov",
    "Omarov",
    "Pak",
    "Sultanov",
    "Kuznetsov",
]
STREETS = [
    "Abay Ave",
    "Dostyk Ave",
    "Tole Bi St",
    "Satpayev St",
    "Zhandosov St",
    "Raiymbek Ave",
    "Al-Farabi Ave",
    "Furmanov St",
    "Gogol St",
    "Seifullin Ave",
    "Timiryazev St",
]
TENANTS = [
    # slug, name, prefix, technicians, requests, brand colour, time zone
    ("almaty-telecom", "Almaty Telecom", "", 30, 240, "#1f6feb", "Asia/Almaty"),
    ("beta-networks", "Beta Networks", "beta.", 10, 60, "#8250df", "Asia/Almaty"),
]
WINDOWS = [(9, 11), (11, 13), (13, 15), (15, 17), (17, 19)]


def is_night_crew(technician: Technician) -> bool:
    number = "".join(ch for ch in technician.user.username if ch.isdigit())
    return bool(number) and int(number) % 6 == 0


def near(rng: random.Random, spread_km: float = 9.0) -> tuple[float, float]:
    return (
        round(CENTER[0] + rng.uniform(-1, 1) * spread_km / 111.0, 6),
        round(CENTER[1] + rng.uniform(-1, 1) * spread_km / 81.0, 6),
    )


class Command(BaseCommand):
    help = "Create the demo tenants, users, technicians, shifts and requests."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only seed an empty database")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, if_empty: bool, seed: int, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates well-known passwords; it runs only with DEBUG.")
        if Tenant.objects.exists():
            if if_empty:
                created = self.ensure_shifts(Technician.objects.select_related("tenant", "user"))
                self.stdout.write(f"Demo data present; {created} shifts added for today/tomorrow.")
                return
            raise CommandError("The database already has tenants.")
        rng = random.Random(seed)
        self.password_hash = make_password(PASSWORD)  # hashed once: 48 users share it
        for spec in TENANTS:
            self.seed_tenant(rng, *spec)
        # The contact center's operator answers for both clients; the console shows which one
        # each call is for from the number dialled.
        User.objects.get(username="operator").clients.add(Tenant.objects.get(slug="beta-networks"))
        # Platform staff: the whole installation's admin, of no client.
        User.objects.create(
            username="platform",
            password=self.password_hash,
            is_staff=True,
            is_superuser=True,
            first_name="Platform",
            last_name="Staff",
        )
        self.stdout.write(self.style.SUCCESS("Demo data created."))

    @transaction.atomic
    def seed_tenant(self, rng, slug, name, prefix, n_technicians, n_requests, colour, zone):
        tenant = Tenant.objects.create(name=name, slug=slug, brand_color=colour, time_zone=zone)
        for role in (Role.DISPATCHER, Role.MANAGER, Role.OPERATOR, Role.ADMIN):
            # A tenant's administrator uses the admin for their own client only.
            is_admin = role == Role.ADMIN
            User.objects.create(
                username=f"{prefix}{role}",
                password=self.password_hash,
                tenant=tenant,
                role=role,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                is_staff=is_admin,
            )
        number = TENANTS.index(next(t for t in TENANTS if t[0] == slug)) + 1
        for kind, address in (
            (ContactPoint.Kind.PHONE, f"+7727200000{number}"),
            (ContactPoint.Kind.SMS, f"700{number}"),
            (ContactPoint.Kind.EMAIL, f"support@{slug}.example"),
        ):
            ContactPoint.objects.create(tenant=tenant, kind=kind, address=address)
        skills = [Skill.objects.create(tenant=tenant, code=c, name=n) for c, n in SKILLS]
        technicians = []
        for i in range(1, n_technicians + 1):
            user = User.objects.create(
                username=f"{prefix}technician{i}",
                password=self.password_hash,
                tenant=tenant,
                role=Role.TECHNICIAN,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            lat, lon = near(rng, 12)
            technician = Technician.objects.create(
                tenant=tenant,
                user=user,
                home_lat=lat,
                home_lon=lon,
                territory=rng.choice(["North", "South", "East", "West"]),
            )
            technician.skills.set(rng.sample(skills, rng.randint(2, 4)))
            technicians.append(technician)
        seed_teams(tenant, technicians)
        self.ensure_shifts(technicians)
        customers = []
        for i in range(n_requests):
            lat, lon = near(rng)
            customers.append(
                Customer(
                    tenant=tenant,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    phone=f"+7701{rng.randint(1000000, 9999999)}",
                    email=f"customer{i}@example.kz",
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 250)}, Almaty",
                    lat=lat,
                    lon=lon,
                    account_number=f"{slug[:2].upper()}{100000 + i}",
                )
            )
        Customer.objects.bulk_create(customers)
        self.seed_requests(rng, tenant, technicians, customers, skills)
        seed_surveys(
            rng,
            tenant,
            technicians,
            customers,
            manager=User.objects.get(tenant=tenant, role=Role.MANAGER),
            operator=User.objects.get(tenant=tenant, role=Role.OPERATOR),
        )
        # Months of finished work before today, rolled up: the report page shows trends.
        seed_kpi_history(rng, tenant, technicians, customers)
        seed_contacts(
            rng, tenant, customers, operator=User.objects.get(tenant=tenant, role=Role.OPERATOR)
        )

    def seed_requests(self, rng, tenant, technicians, customers, skills):
        now = timezone.localtime(timezone=tenant.zone)
        today = now.date()
        # Day-crew slots still ahead (a window today must start at least an hour from now),
        # three in four of them booked: a full but feasible day for the planner.
        free_slots = [
            (technician, day, window)
            for technician in technicians
            if not is_night_crew(technician)
            for day in (today, today + timedelta(days=1))
            for window in WINDOWS
            if day > today or window[0] >= now.hour + 2
        ]
        rng.shuffle(free_slots)
        tomorrow = [slot for slot in free_slots if slot[1] > today]
        free_slots = free_slots[: len(free_slots) * 3 // 4]
        for customer in customers:
            if rng.random() < 0.08:
                request_create(
                    tenant=tenant,
                    customer=customer,
                    kind=ServiceRequest.Kind.EMERGENCY,
                    category=ServiceRequest.Category.OUTAGE,
                    channel=ServiceRequest.Channel.PHONE,
                    description="No internet since this morning",
                    estimated_minutes=45,
                    skills=[rng.choice(skills)],
                )
                continue
            # Past three quarters of the day crew's slots, requests wait for the planner.
            booked = bool(free_slots)
            technician, day, (start_h, end_h) = (free_slots or tomorrow).pop()
            start = datetime.combine(day, time(start_h), tzinfo=tenant.zone)
            needed = [s for s in technician.skills.all() if rng.random() < 0.5][:1]
            request = request_create(
                tenant=tenant,
                customer=customer,
                kind=ServiceRequest.Kind.PLANNED,
                category=rng.choice(
                    [
                        ServiceRequest.Category.INSTALLATION,
                        ServiceRequest.Category.RELOCATION,
                        ServiceRequest.Category.REPAIR,
                    ]
                ),
                channel=rng.choice(list(ServiceRequest.Channel.values)),
                description="Customer asked for a call 30 minutes before arrival",
                estimated_minutes=rng.choice([45, 60, 90]),
                skills=needed,
                window=(start, start.replace(hour=end_h)),
                reserve=False,  # the seed books the day itself, slot by slot
            )
            # Most of the booked work is already routed; the rest waits for the planner.
            if booked and rng.random() < 0.8:
                arrival = start + timedelta(minutes=rng.choice([0, 15, 30]))
                visit_create(
                    request=request,
                    technician=technician,
                    start=arrival,
                    end=arrival + timedelta(minutes=request.estimated_minutes),
                    travel_minutes=rng.randint(10, 30),
                )

    @staticmethod
    def ensure_shifts(technicians) -> int:
        """Day crew 08:00–20:00 from today to the booking horizon; every sixth technician is on the
        night crew (20:00–08:00, from last night on), so emergencies are covered at any hour of
        the demo."""
        created = 0
        for technician in technicians:
            zone = technician.tenant.zone
            today = timezone.localdate(timezone=zone)
            night = is_night_crew(technician)
            # Shifts as far ahead as customers may book, so the window pickers have a week.
            ahead = [
                today + timedelta(days=n) for n in range(technician.tenant.booking_days_ahead + 1)
            ]
            days = [today - timedelta(days=1), *ahead] if night else ahead
            for day in days:
                start = datetime.combine(day, time(20 if night else 8), tzinfo=zone)
                _, new = Shift.objects.get_or_create(
                    technician=technician,
                    date=day,
                    defaults={
                        "tenant_id": technician.tenant_id,
                        "start": start,
                        "end": start + timedelta(hours=12),
                        "lunch_minutes": 60,
                    },
                )
                created += new
        return created
