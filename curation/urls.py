from django.urls import path

from curation import views

app_name = "curation"

urlpatterns = [
    path("", views.queue_page, name="queue"),
    path("items/<int:pk>/", views.item_page, name="item"),
    path("items/<int:pk>/decide", views.item_decide, name="decide"),
    path("faces/<int:pk>/crop.jpg", views.face_crop, name="face_crop"),
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs.json", views.jobs_feed, name="jobs_feed"),
    path("gallery-update", views.gallery_update, name="gallery_update"),
    path("quality/", views.quality_page, name="quality"),
]
