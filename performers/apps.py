from django.apps import AppConfig


class PerformersConfig(AppConfig):
    name = "performers"
    verbose_name = "Performers (identity graph)"
    default_auto_field = "django.db.models.BigAutoField"
