"""The demo's satisfaction data (`manage.py seed_demo`): questionnaires, a service point with a
registered kiosk, answered surveys from several channels with one low score still open as a
follow-up case, a phone campaign's call list and a mystery-shopper form with one audit."""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import Tenant, User
from requests_app.models import Customer, ServiceRequest
from surveys import collection, defaults, services
from surveys.models import AuditForm, AuditItem, KioskDevice, Response, ServicePoint, SurveySettings
from surveys.tokens import token_digest
from technicians.models import Technician, Visit


def demo_kiosk_token(tenant: Tenant) -> str:
    """A kiosk token the demo can print (a real kiosk's is random and shown once)."""
    return f"demo-kiosk-{tenant.slug}-0000000000"


def seed_surveys(
    rng: random.Random,
    tenant: Tenant,
    technicians: list[Technician],
    customers: list[Customer],
    *,
    manager: User,
    operator: User,
) -> None:
    services.survey_templates_ensure(tenant_id=tenant.pk)
    SurveySettings.objects.create(tenant=tenant)
    point = ServicePoint.objects.create(
        tenant=tenant, code="abay", name="Abay Ave office", region="Almaly", address="Abay Ave 52"
    )
    kiosk = KioskDevice.objects.create(
        tenant=tenant,
        service_point=point,
        name="Hall terminal",
        token_hash=token_digest(demo_kiosk_token(tenant)),
    )
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    template = services.template_for(tenant_id=tenant.pk, purpose="after_visit")
    answers = [
        {"q1": "5", "q2": "1", "q3": "10", "q4": "7", "q5": "Fast and polite, thank you"},
        {"q1": "4", "q2": "1", "q3": "9", "q4": "6"},
        {"q1": "5", "q2": "1", "q3": "8", "q4": "6"},
        {
            "q1": "2",
            "q2": "0",
            "q3": "3",
            "q4": "2",
            "q5": "The internet drops again every evening",
        },
    ]
    visits = []
    for n, customer in enumerate(customers[:6]):
        technician = technicians[n % len(technicians)]
        start = yesterday - timedelta(hours=n + 2)
        request = ServiceRequest.objects.create(
            tenant=tenant,
            kind=ServiceRequest.Kind.PLANNED,
            category=ServiceRequest.Category.REPAIR,
            channel=ServiceRequest.Channel.PHONE,
            customer=customer,
            address=customer.address,
            lat=customer.lat,
            lon=customer.lon,
            status="completed",
            window_start=start,
            window_end=start + timedelta(hours=2),
            created_by=operator,
        )
        visits.append(
            Visit.objects.create(
                tenant=tenant,
                request=request,
                technician=technician,
                planned_start=start,
                planned_end=start + timedelta(hours=1),
                status=Visit.Status.COMPLETED,
                finished_at=start + timedelta(hours=1),
            )
        )
    for visit, raw in zip(visits, answers, strict=False):
        services.response_record(
            tenant_id=tenant.pk,
            template=template,
            channel=Response.Channel.LINK,
            raw=raw,
            ties=services.Ties.of_visit(visit),
            language=tenant.language,
            submitted_at=visit.finished_at + timedelta(hours=1),
        )
    for n in range(12):
        Response.objects.create(
            tenant=tenant,
            channel=Response.Channel.KIOSK,
            service_point=point,
            kiosk=kiosk,
            csat=rng.choice([3, 4, 4, 5, 5, 5]),
            external_id=f"{kiosk.pk}:demo-{n:04d}",
            submitted_at=now - timedelta(hours=rng.randint(1, 72)),
        )
    collection.campaign_create(
        tenant=tenant,
        name="Yesterday's visits",
        # From the day the first demo visit finished (just after midnight, the day before).
        period_start=timezone.localdate(min(v.finished_at for v in visits), tenant.zone),
        period_end=timezone.localdate(now, tenant.zone),
        sample_percent=100,
        actor=manager,
    )
    form = AuditForm.objects.create(
        tenant=tenant, name="Service point visit", target=AuditForm.Target.SERVICE_POINT
    )
    items = [
        AuditItem.objects.create(
            tenant=tenant, form=form, position=n, weight=w, text_en=en, text_ru=ru, text_kk=kk
        )
        for n, (w, en, ru, kk) in enumerate(defaults.AUDIT_ITEMS, start=1)
    ]
    collection.audit_record(
        form=form,
        auditor=manager,
        passed={item.pk for item in items[:3]},
        service_point=point,
        note="Queue of four people, served within eight minutes.",
    )
