"""recognition/admin.py: the Face admin (thumbnails, remove action) and IndexBuild admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from recognition.choices import FaceStatus
from recognition.models import IndexBuild
from recognition.tests.factories import PROFILE, FaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_in(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_face_list_shows_thumbnails_from_the_crop(admin_client_in: Client) -> None:
    face = FaceFactory.create()
    page = admin_client_in.get(reverse("admin:recognition_face_changelist")).content.decode()
    crop_url = reverse("admin:recognition_face_crop", args=[face.pk])
    assert f'src="{crop_url}"' in page

    crop = admin_client_in.get(crop_url)
    assert crop.status_code == 200 and crop.content == bytes(face.crop)


def test_face_crop_is_for_staff_only() -> None:
    face = FaceFactory.create()
    response = Client().get(reverse("admin:recognition_face_crop", args=[face.pk]))
    assert response.status_code == 302


def test_face_change_page_opens(admin_client_in: Client) -> None:
    face = FaceFactory.create()
    response = admin_client_in.get(reverse("admin:recognition_face_change", args=[face.pk]))
    assert response.status_code == 200


def test_remove_from_performer_action_removes_the_face(admin_client_in: Client) -> None:
    face, other = FaceFactory.create(), FaceFactory.create()
    response = admin_client_in.post(
        reverse("admin:recognition_face_changelist"),
        {"action": "remove_from_performer", "_selected_action": [face.pk]},
    )
    assert response.status_code == 302
    face.refresh_from_db()
    other.refresh_from_db()
    assert face.status == FaceStatus.REMOVED and face.removed_at is not None
    assert other.status == FaceStatus.ACTIVE

    admin_client_in.post(
        reverse("admin:recognition_face_changelist"),
        {"action": "restore_to_performer", "_selected_action": [face.pk]},
    )
    face.refresh_from_db()
    assert face.status == FaceStatus.ACTIVE


def test_index_builds_are_read_only(admin_client_in: Client) -> None:
    build = IndexBuild.objects.create(profile=PROFILE, path="/tmp/index")
    assert (
        admin_client_in.get(reverse("admin:recognition_indexbuild_changelist")).status_code == 200
    )
    page = admin_client_in.get(reverse("admin:recognition_indexbuild_change", args=[build.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client_in.get(reverse("admin:recognition_indexbuild_add")).status_code == 403
