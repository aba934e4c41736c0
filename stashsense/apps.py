from django.apps import AppConfig


class StashSenseConfig(AppConfig):
    name = "stashsense"
    verbose_name = "Stash Sense"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # drf-spectacular finds schema extensions by their import
        from stashsense import schema  # noqa: F401
