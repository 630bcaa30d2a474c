"""One queue of contacts: take next gives the most urgent contact the operator may serve, never
the same one to two operators; a contact's changes are rows and live events."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from contacts.models import Contact, ContactChange, OperatorProfile
from contacts.services import contact_assign, contact_take_next, presence_set, status_set
from core.models import Event
from tests.contacts.helpers import contact_in, operator_of

pytestmark = pytest.mark.django_db


def test_take_next_gives_the_contact_whose_first_response_is_due_soonest(tenant, operator):
    contact_in(tenant, due_in=30)
    soonest = contact_in(tenant, due_in=5)
    contact_in(tenant, due_in=10, priority=1)

    taken = contact_take_next(operator=operator)

    assert taken == soonest
    assert (taken.status, taken.assigned_to, taken.taken_at is not None) == (
        Contact.Status.IN_PROGRESS,
        operator,
        True,
    )


def test_on_the_same_deadline_the_higher_priority_goes_first(tenant, operator):
    due = timezone.now() + timedelta(minutes=5)
    contact_in(tenant, sla_due=due, priority=3)
    urgent = contact_in(tenant, sla_due=due, priority=1)

    assert contact_take_next(operator=operator) == urgent


def test_take_next_serves_the_operators_clients_only(tenant, other_tenant):
    foreign = contact_in(other_tenant, due_in=1)
    mine = contact_in(tenant, due_in=50)
    operator = operator_of(tenant, username="op")

    assert contact_take_next(operator=operator) == mine
    assert contact_take_next(operator=operator) is None
    foreign.refresh_from_db()
    assert foreign.assigned_to is None


def test_an_operator_who_answers_for_another_client_takes_its_contacts_too(tenant, other_tenant):
    foreign = contact_in(other_tenant, due_in=1)
    operator = operator_of(tenant, username="op", clients=[other_tenant])

    assert contact_take_next(operator=operator) == foreign


def test_take_next_serves_the_operators_languages(tenant, operator):
    contact_in(tenant, due_in=1, language="kk")
    russian = contact_in(tenant, due_in=5, language="ru")
    presence_set(user=operator, presence=OperatorProfile.Presence.AVAILABLE, languages=["ru"])

    assert contact_take_next(operator=operator) == russian
    assert contact_take_next(operator=operator) is None


def test_a_change_is_a_row_and_a_live_event_for_the_clients_contact_center(tenant, operator):
    contact = contact_in(tenant)

    contact_take_next(operator=operator)
    status_set(contact=contact, status=Contact.Status.DONE, actor=operator)

    changes = list(
        ContactChange.objects.filter(contact=contact).values_list("to_status", flat=True)
    )
    assert changes == ["new", "in_progress", "done"]
    events = Event.objects.filter(kind="contact.updated", payload__id=contact.pk)
    assert [e.payload["status"] for e in events.order_by("seq")] == ["new", "in_progress", "done"]
    contact.refresh_from_db()
    assert contact.done_at is not None


def test_a_supervisor_reassigns_only_to_an_operator_who_answers_for_the_client(
    tenant, other_tenant, manager
):
    contact = contact_in(tenant)
    stranger = operator_of(other_tenant, username="stranger")
    colleague = operator_of(tenant, username="colleague")

    with pytest.raises(Exception, match="does not answer"):
        contact_assign(contact=contact, operator=stranger, actor=manager)
    contact_assign(contact=contact, operator=colleague, actor=manager)

    contact.refresh_from_db()
    assert (contact.assigned_to, contact.status) == (colleague, Contact.Status.IN_PROGRESS)


@pytest.mark.django_db(transaction=True)
def test_two_operators_taking_next_at_once_never_get_the_same_contact(tenant):
    for minutes in range(6):
        contact_in(tenant, due_in=minutes)
    operators = [operator_of(tenant, username=f"op{n}", role=Role.OPERATOR) for n in range(6)]
    taken, barrier = [], threading.Barrier(len(operators))

    def take(user):
        try:
            barrier.wait()
            contact = contact_take_next(operator=user)
            taken.append(contact.pk if contact else None)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(user,)) for user in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert None not in taken
    assert len(set(taken)) == len(operators)
    assigned = Contact.objects.values_list("assigned_to", flat=True)
    assert sorted(assigned) == sorted(user.pk for user in operators)
