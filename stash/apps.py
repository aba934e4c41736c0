from django.apps import AppConfig


class StashConfig(AppConfig):
    name = "stash"
    verbose_name = "The user's Stash"
    default_auto_field = "django.db.models.BigAutoField"
