from django.apps import AppConfig


class BundlesConfig(AppConfig):
    name = "bundles"
    verbose_name = "Gallery bundles"
    default_auto_field = "django.db.models.BigAutoField"
