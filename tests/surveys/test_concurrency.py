"""Twenty submissions of one link at once: exactly one is stored, the others are told 410."""

import threading

import pytest
from django.db import connection

from surveys import services
from surveys.models import Answer, Invitation, Response
from surveys.selectors import Gone
from tests.surveys.conftest import GOOD

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_submissions_of_one_token_are_accepted_exactly_once(sent_link):
    _invitation, token = sent_link
    start, outcomes = threading.Barrier(20), []

    def submit():
        try:
            start.wait()
            services.response_by_link(token=token, raw=GOOD)
            outcomes.append("stored")
        except Gone as gone:
            outcomes.append(gone.status_code)
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes, key=str) == [410] * 19 + ["stored"]
    assert Response.objects.count() == 1
    assert Answer.objects.count() == len(GOOD)
    assert Invitation.objects.get().status == "answered"
