from django.urls import path

from curation import gallery_views, jobs_views, views

app_name = "curation"

urlpatterns = [
    path("", views.queue_page, name="queue"),
    path("bulk", views.queue_bulk, name="bulk"),
    path("items/<int:pk>/", views.item_page, name="item"),
    path("items/<int:pk>/thumbnail", views.item_thumbnail, name="item_thumbnail"),
    path("items/<int:pk>/decide", views.item_decide, name="decide"),
    path("faces/<int:pk>/crop.jpg", views.face_crop, name="face_crop"),
    path("performers/", gallery_views.performers_page, name="performers"),
    path("performers/<uuid:pk>/", gallery_views.gallery_page, name="gallery"),
    path("performers/<uuid:pk>/faces", gallery_views.gallery_face_action, name="gallery_face"),
    path("performers/<uuid:pk>/merge", gallery_views.gallery_merge, name="gallery_merge"),
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs.json", views.jobs_feed, name="jobs_feed"),
    path("jobs/start", jobs_views.job_start, name="job_start"),
    path("jobs/cancel", jobs_views.job_cancel_view, name="job_cancel"),
    path("gallery-update", views.gallery_update, name="gallery_update"),
    path("quality/", views.quality_page, name="quality"),
]
