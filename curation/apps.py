from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The layers below send signals and take a verdicts provider; curation answers.
        from curation import receivers  # noqa: F401
