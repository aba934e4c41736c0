from django.urls import path

from stash.api import views

# The Stash side: images, galleries and scenes named by their Stash id, stored scene suggestions, the plugin's
# feedback, library scans.
urlpatterns = [
    path("identify", views.StashIdentifyView.as_view(), name="identify"),
    path("identify/gallery", views.IdentifyGalleryView.as_view(), name="identify-gallery"),
    path("identify/scene", views.StashIdentifySceneView.as_view(), name="identify-scene"),
    path("feedback", views.FeedbackView.as_view(), name="feedback"),
    path(
        "scenes/<str:stash_scene_id>/suggestions",
        views.SceneSuggestionsView.as_view(),
        name="scene-suggestions",
    ),
    path("scans", views.SceneScanListView.as_view(), name="scene-scans"),
]
