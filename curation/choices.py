from django.db import models


class ReviewKind(models.TextChoices):
    DUPLICATE = "duplicate", "Possible duplicate identity"
    SUSPICIOUS_FACE = "suspicious_face", "Suspicious face"
    LOW_CONFIDENCE = "low_confidence", "Low-confidence identification"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Skipped"


class EvidenceKind(models.TextChoices):
    """What makes two performers look like one identity, strongest first."""

    EXPLICIT_LINK = "explicit_link", "Explicit cross-link"
    SHARED_PROFILE = "shared_profile", "Shared external profile"
    NAME_AND_FACE = "name_and_face", "Same name and similar faces"
    FACE = "face", "Similar faces"
