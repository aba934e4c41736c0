from django.urls import path

from recognition.api import stash_views, views

urlpatterns = [
    path("identify", views.IdentifyView.as_view(), name="identify"),
    path("identify/scene", views.IdentifySceneView.as_view(), name="identify-scene"),
]

# The Stash side: stored scene suggestions, the plugin's feedback, library scans.
urlpatterns += [
    path("feedback", stash_views.FeedbackView.as_view(), name="feedback"),
    path(
        "scenes/<str:stash_scene_id>/suggestions",
        stash_views.SceneSuggestionsView.as_view(),
        name="scene-suggestions",
    ),
    path("scans", stash_views.SceneScanListView.as_view(), name="scene-scans"),
]
