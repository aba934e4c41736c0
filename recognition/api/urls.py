from django.urls import URLPattern

# `POST /identify` and `POST /identify/scene` are routed by the Stash side (stash/api/urls.py):
# its views are these endpoints' views, and also take images and scenes named by Stash ids.
urlpatterns: list[URLPattern] = []
