"""Guessing passwords stops after a few tries: the user is told, and others are not locked out."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def test_after_five_wrong_passwords_even_the_right_one_is_paused_and_the_page_says_so(
    client, dispatcher, settings
):
    settings.AXES_FAILURE_LIMIT = 5
    answers = [sign_in(client, "dispatcher", "wrong").status_code for _ in range(5)]

    response = sign_in(client, "dispatcher", PASSWORD)

    assert answers == [200, 200, 200, 200, 429]  # the form again, then the pause

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Sign-in paused" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_paused_the_same_way(client, dispatcher, settings):
    dispatcher.is_staff = True
    dispatcher.save(update_fields=["is_staff"])
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in(client, "dispatcher", "wrong", url="/admin/login/")

    response = sign_in(client, "dispatcher", PASSWORD, url="/admin/login/")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_colleague_at_the_same_address_still_signs_in(client, dispatcher, manager, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        sign_in(client, "dispatcher", "wrong")

    response = sign_in(client, "manager", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_a_right_password_before_the_limit_starts_the_count_again(client, dispatcher, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        sign_in(client, "dispatcher", "wrong")
    assert sign_in(client, "dispatcher", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, "dispatcher", "wrong")

    assert sign_in(client, "dispatcher", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("language", "heading"), [("ru", "Вход приостановлен"), ("kk", "Кіру уақытша тоқтатылды")]
)
def test_the_pause_is_explained_in_the_users_language(
    client, dispatcher, settings, language, heading
):
    settings.AXES_FAILURE_LIMIT = 1
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    sign_in(client, "dispatcher", "wrong")

    page = sign_in(client, "dispatcher", PASSWORD).content.decode()

    assert heading in page and "Sign-in paused" not in page
