"""Factories for curation's review items (faces and their embeddings: recognition's)."""

from __future__ import annotations

from typing import Any

import factory

from curation.choices import ReviewKind, ReviewStatus
from curation.models import ReviewItem
from performers.models import Performer
from performers.tests.factories import PerformerFactory
from recognition.models import Face
from recognition.tests.factories import FaceFactory


class DuplicateItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.DUPLICATE
    status = ReviewStatus.OPEN
    performer_a = factory.SubFactory(PerformerFactory)
    performer_b = factory.SubFactory(PerformerFactory)
    score = 0.8
    subject_key = factory.LazyAttribute(
        lambda o: "pair:" + ":".join(sorted([str(o.performer_a.pk), str(o.performer_b.pk)]))
    )
    summary = factory.LazyAttribute(lambda o: f"{o.performer_a} ↔ {o.performer_b}")
    evidence = factory.LazyFunction(
        lambda: [
            {
                "kind": "name_and_face",
                "label": "Same name and similar faces",
                "summary": "both are called 'x' and their faces are close",
                "details": {"distance": 0.41},
            }
        ]
    )


class SuspiciousFaceItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.SUSPICIOUS_FACE
    status = ReviewStatus.OPEN
    face = factory.SubFactory(FaceFactory)
    score = 0.7
    subject_key = factory.LazyAttribute(lambda o: f"face:{o.face.pk}")
    summary = factory.LazyAttribute(lambda o: f"Face {o.face.pk} of {o.face.performer}")


class LowConfidenceItemFactory(factory.django.DjangoModelFactory[ReviewItem]):
    class Meta:
        model = ReviewItem

    kind = ReviewKind.LOW_CONFIDENCE
    status = ReviewStatus.OPEN
    score = 0.4
    payload = factory.LazyFunction(
        lambda: {"scene_id": "42", "person": 0, "thumbnail": "", "candidates": []}
    )


def duplicate_item(**fields: Any) -> tuple[ReviewItem, Performer, Performer]:
    """An open duplicate item and its two performers."""
    item = DuplicateItemFactory.create(**fields)
    assert item.performer_a is not None and item.performer_b is not None
    return item, item.performer_a, item.performer_b


def suspicious_face_item(**fields: Any) -> tuple[ReviewItem, Face]:
    """An open suspicious-face item and its face."""
    item = SuspiciousFaceItemFactory.create(**fields)
    assert item.face is not None
    return item, item.face
