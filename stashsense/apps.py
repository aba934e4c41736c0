from django.apps import AppConfig


class StashSenseConfig(AppConfig):
    name = "stashsense"
    verbose_name = "Stash Sense"
    default_auto_field = "django.db.models.BigAutoField"
