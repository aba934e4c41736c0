"""Every write on faces and indexes goes through here."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from recognition.choices import FaceStatus
from recognition.models import Face

logger = logging.getLogger(__name__)


@transaction.atomic
def face_remove(*, face: Face, actor: str = "system") -> Face:
    """Take a face out of its performer's gallery; identification stops using it at once."""
    updated = Face.objects.filter(pk=face.pk, status=FaceStatus.ACTIVE).update(
        status=FaceStatus.REMOVED, removed_at=timezone.now()
    )
    if updated:
        logger.info("Face %s removed by %s", face.pk, actor)
    face.refresh_from_db()
    return face


@transaction.atomic
def face_restore(*, face: Face, actor: str = "system") -> Face:
    """Put a removed face back into the gallery."""
    Face.objects.filter(pk=face.pk, status=FaceStatus.REMOVED).update(status=FaceStatus.ACTIVE, removed_at=None)
    logger.info("Face %s restored by %s", face.pk, actor)
    face.refresh_from_db()
    return face
