"""The engine's own rules: versioned templates in three languages, ranges held by the database."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys import services
from surveys.models import Answer, Question, Response, SurveyTemplate

pytestmark = pytest.mark.django_db


def test_a_tenant_gets_each_default_questionnaire_once_in_three_languages(tenant):
    services.survey_templates_ensure(tenant_id=tenant.pk)
    services.survey_templates_ensure(tenant_id=tenant.pk)

    purposes = SurveyTemplate.objects.for_tenant(tenant).values_list("purpose", flat=True)
    assert sorted(purposes) == ["after_visit", "ivr", "kiosk", "phone"]
    question = Question.objects.filter(template__purpose="after_visit", position=1).get()
    assert question.kind == "csat"
    assert question.text("kk") == "Қызмет көрсетуге қаншалықты ризасыз?"


def test_a_new_version_becomes_the_active_one_and_the_old_keeps_its_questions(tenant):
    services.survey_templates_ensure(tenant_id=tenant.pk)
    first = SurveyTemplate.objects.get(tenant=tenant, purpose="kiosk")

    second = services.survey_template_new_version(template=first)

    first.refresh_from_db()
    assert (first.active, second.active, second.version) == (False, True, 2)
    assert first.questions.count() == second.questions.count() == 1
    assert services.template_for(tenant_id=tenant.pk, purpose="kiosk") == second


@pytest.mark.parametrize(("kind", "value"), [("csat", 6), ("nps", 11), ("ces", 0), ("solved", 2)])
def test_the_database_refuses_an_answer_out_of_its_kinds_range(tenant, kind, value):
    services.survey_templates_ensure(tenant_id=tenant.pk)
    question = Question.objects.filter(template__tenant=tenant, kind=kind).first()
    response = Response.objects.create(tenant=tenant, channel="link", submitted_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(
            tenant=tenant, response=response, question=question, kind=kind, value=value
        )
