from django.db import models


class SourceKind(models.TextChoices):
    STASHBOX = "stashbox", "stash-box"
    THEPORNDB = "theporndb", "ThePornDB"


class Gender(models.TextChoices):
    MALE = "MALE", "Male"
    FEMALE = "FEMALE", "Female"
    TRANSGENDER_MALE = "TRANSGENDER_MALE", "Transgender male"
    TRANSGENDER_FEMALE = "TRANSGENDER_FEMALE", "Transgender female"
    INTERSEX = "INTERSEX", "Intersex"
    NON_BINARY = "NON_BINARY", "Non-binary"


class BodyModificationKind(models.TextChoices):
    TATTOO = "tattoo", "Tattoo"
    PIERCING = "piercing", "Piercing"
