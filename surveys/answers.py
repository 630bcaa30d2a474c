"""Reading the answers a channel sends (a form, a kiosk's JSON, keypad digits, a phone script)
against a template's questions: one set of rules, field messages instead of errors.

Answers are keyed `q<position>`; choice questions take integers in their kind's range
(`solved`: 1 yes, 0 no), text questions up to 2000 characters."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from surveys.models import Question

TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Cleaned:
    values: dict[int, int | str]  # question id → value
    errors: dict[str, str]  # field → message


def field_name(question: Question) -> str:
    return f"q{question.position}"


def value_clean(question: Question, raw: object) -> int | str | None:
    """The value of one answer; None when left empty; ValueError with a message when wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if question.kind == Question.Kind.TEXT:
        text = str(raw).strip()
        if "\x00" in text:
            raise ValueError(_("The text contains a character that is not text."))
        if len(text) > TEXT_LIMIT:
            raise ValueError(
                _("Please keep it under %(limit)s characters.") % {"limit": TEXT_LIMIT}
            )
        return text
    if isinstance(raw, bool) and question.kind == Question.Kind.SOLVED:
        return int(raw)
    low, high = Question.RANGES[question.kind]
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high or isinstance(raw, float):
        raise ValueError(
            _("Choose a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return number


def answers_clean(questions: list[Question], raw: Mapping) -> Cleaned:
    values, errors = {}, {}
    for question in questions:
        name = field_name(question)
        try:
            value = value_clean(question, raw.get(name))
        except ValueError as error:
            errors[name] = str(error)
            continue
        if value is None:
            if question.required:
                errors[name] = _("Please answer this question.")
            continue
        values[question.pk] = value
    return Cleaned(values, errors)
