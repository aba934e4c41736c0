"""Which Host headers are served: by LAN address and LAN name out of the box, no public name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from stashsense.hosts import domain_is_private, host_allowed

DEFAULT = ["private"]


@pytest.mark.parametrize(
    "host",
    [
        "192.168.1.5:8000",
        "10.0.0.7",
        "172.20.0.3:8000",
        "127.0.0.1:8000",
        "[::1]:8000",
        "[fd00::5]",
        "localhost:8000",
        "web:8000",
        "stashsense",
        "tower",
        "tower.local",
        "nas.lan:8000",
        "stash-sense.home.arpa",
    ],
)
def test_the_default_serves_lan_addresses_and_lan_names(host: str) -> None:
    assert host_allowed(host, DEFAULT)


@pytest.mark.parametrize(
    "host",
    ["8.8.8.8", "evil.example.com", "stashsense.example.org:8000", "[2001:4860::8888]", "", "a b"],
)
def test_the_default_refuses_public_addresses_and_names(host: str) -> None:
    assert not host_allowed(host, DEFAULT)


def test_django_patterns_still_work_beside_the_keyword() -> None:
    assert host_allowed("stash.example.org", ["private", ".example.org"])
    assert not host_allowed("192.168.1.5", ["stash.example.org"])
    assert host_allowed("anything.example", ["*"])


def test_an_ip_literal_decides_by_its_network_not_by_its_dots() -> None:
    assert domain_is_private("192.168.0.1") and not domain_is_private("1.1.1.1")


@pytest.mark.django_db
@override_settings(STASHSENSE_ALLOWED_HOSTS=DEFAULT, ALLOWED_HOSTS=["*"])
def test_the_server_answers_its_lan_address_and_refuses_a_rebound_public_name() -> None:
    client = Client()
    assert client.get("/api/v1/health", HTTP_HOST="192.168.1.5:8000").status_code == 200
    assert client.get("/api/v1/health", HTTP_HOST="web:8000").status_code == 200
    assert client.get("/api/v1/health", HTTP_HOST="rebind.example.com").status_code == 400


@pytest.mark.django_db
@override_settings(STASHSENSE_ALLOWED_HOSTS=DEFAULT, ALLOWED_HOSTS=["*"])
def test_a_dashboard_post_from_its_own_lan_origin_passes_the_csrf_origin_check() -> None:
    curator = User.objects.create_superuser("curator", password="pw-for-tests-only")
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    page = client.get("/admin/", HTTP_HOST="192.168.1.5:8000")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/admin/logout/",
        {"csrfmiddlewaretoken": token},
        HTTP_HOST="192.168.1.5:8000",
        HTTP_ORIGIN="http://192.168.1.5:8000",
    )
    assert response.status_code == 200, response.status_code
    refused = Client(enforce_csrf_checks=True)
    refused.cookies["csrftoken"] = token
    response = refused.post(
        "/admin/login/",
        {"csrfmiddlewaretoken": token},
        HTTP_HOST="192.168.1.5:8000",
        HTTP_ORIGIN="http://elsewhere.example",
    )
    assert response.status_code == 403
