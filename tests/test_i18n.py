"""Russian and Kazakh: every string is translated, the compiled catalogs match, people see them."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("ru", "kk")


def po_entries(path: Path) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) → msgstr (the first form for plurals) of a .po file, header left out."""
    entries, key, field, values = {}, None, None, {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if values.get("msgid"):
                msgstr = values.get("msgstr", values.get("msgstr[0]", ""))
                entries[(values.get("msgctxt"), values["msgid"])] = msgstr
            values, field = {}, None
            continue
        if line.startswith('"'):
            values[field] += ast.literal_eval(line)
            continue
        key, _, text = line.partition(" ")
        field = key
        values[field] = ast.literal_eval(text)
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_the_compiled_catalog_matches(language):
    folder = LOCALE / language / "LC_MESSAGES"
    entries = po_entries(folder / "django.po")
    assert len(entries) > 300
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []
    # makemessages guesses a "fuzzy" translation for a new string from a similar old one: it is
    # shown to users as it stands, so a guess left there is a wrong text.
    assert "#, fuzzy" not in (folder / "django.po").read_text(encoding="utf-8")
    with open(folder / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    stale = [
        (context, msgid)
        for (context, msgid), msgstr in entries.items()
        if (catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)) != msgstr
    ]
    assert stale == [], "run `manage.py compilemessages` after editing the .po files"


@pytest.mark.parametrize(("language", "text"), [("ru", "Войти"), ("kk", "Кіру"), ("en", "Sign in")])
def test_pages_speak_the_chosen_language(language, text, db):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get("/accounts/login/").content.decode()

    assert text in page
    assert f'lang="{language}"' in page


@pytest.mark.django_db
def test_the_customer_is_written_to_in_the_tenant_language(tenant):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import Notification
    from requests_app.services import request_confirm_window
    from tests.factories import RequestFactory

    tenant.language = "kk"
    tenant.save(update_fields=["language"])
    start = timezone.now() + timedelta(days=1)
    request = RequestFactory(
        tenant=tenant, window_start=start, window_end=start + timedelta(hours=2)
    )

    request_confirm_window(request=request)

    body = Notification.objects.get(request=request).body
    assert "Track or change it" not in body
    assert request.number in body


@pytest.mark.django_db
def test_the_board_reads_live_codes_in_the_dispatchers_language(dispatcher):
    """Events are written by workers in no one's language: they carry codes, and the board
    gets the labels for them in its reader's language."""
    import json
    import re

    client = Client()
    client.force_login(dispatcher)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    page = client.get("/board/").content.decode()

    raw = re.search(r'<script id="board-text" type="application/json">(.*?)</script>', page, re.S)
    labels = json.loads(raw.group(1))
    assert labels["status"]["escalated"] != "Escalated"
    assert labels["plan_note"]["no_capacity"] != "no room left in the day within its window"
    assert labels["category"]["outage"] != "Outage"
    # Counted words in the language's own plural forms (one, few, many for Russian).
    assert labels["customers"]["one"] == "%(n)s абонент"
    assert labels["customers"]["few"] == "%(n)s абонента"
    assert labels["customers"]["other"] == "%(n)s абонентов"
    assert labels["alerts"]["late"]["other"] != "%(n)s technicians late"


def test_kazakh_dates_read_day_month_year():
    from datetime import date

    from django.utils import formats, translation

    with translation.override("kk"):
        written = formats.date_format(date(2026, 11, 29), "DATE_FORMAT")

    assert written.startswith("29 ") and written.endswith(" 2026")
