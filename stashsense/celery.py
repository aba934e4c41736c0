"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stashsense.settings")

app = Celery("stashsense")
# Django's settings, through a check that turns a malformed variable into one line and exit 4.
app.config_from_object("stashsense.startup:checked_settings", namespace="CELERY")
app.autodiscover_tasks()
