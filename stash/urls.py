from django.urls import path

from stash import views
from stash.plugin_package import ZIP_NAME

app_name = "stash-plugin"

# A Stash plugin source: Stash's server reads the index, then downloads the zip it names.
urlpatterns = [
    path("index.yml", views.plugin_index, name="index"),
    path(ZIP_NAME, views.plugin_zip, name="zip"),
]
