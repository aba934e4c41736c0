from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from stashsense.views import HealthView

admin.site.site_header = "Stash Sense administration"
admin.site.site_title = "Stash Sense"
admin.site.index_title = "Performers, faces, sources and keys"

api_v1: list[URLPattern | URLResolver] = [
    path("health", HealthView.as_view(), name="health"),
    path("", include("performers.api.urls")),
    path("", include("recognition.api.urls")),
    path("", include("stash.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("dashboard/", include("curation.urls")),
    path("plugin/", include("stash.urls")),
    path("", RedirectView.as_view(pattern_name="curation:queue"), name="home"),
]

handler404 = "stashsense.exceptions.handler404"
handler500 = "stashsense.exceptions.handler500"
