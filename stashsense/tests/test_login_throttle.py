"""Admin login throttling (django-axes): wrong passwords lock the username out for a while."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _login(client: Client, password: str, username: str = "admin") -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def test_after_too_many_wrong_passwords_even_the_right_one_is_refused(
    django_user_model: Any,
) -> None:
    django_user_model.objects.create_superuser("admin", password="right-password")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert _login(client, "wrong").status_code in (200, 429)

    locked = _login(client, "right-password")

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_logs_in_and_resets_the_count(
    django_user_model: Any,
) -> None:
    django_user_model.objects.create_superuser("admin", password="right-password")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error

    logged_in = _login(client, "right-password")

    assert logged_in.status_code == 302
    assert client.session["_auth_user_id"]


def test_a_locked_out_username_does_not_lock_out_another(django_user_model: Any) -> None:
    django_user_model.objects.create_superuser("admin", password="right-password")
    django_user_model.objects.create_superuser("other", password="other-password")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")

    assert _login(Client(), "other-password", username="other").status_code == 302
