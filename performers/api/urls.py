from django.urls import path

from performers.api import views

urlpatterns = [
    path("performers", views.PerformerListView.as_view(), name="performer-list"),
    path("performers/<uuid:pk>", views.PerformerDetailView.as_view(), name="performer-detail"),
    path("performers/<uuid:pk>/merge", views.PerformerMergeView.as_view(), name="performer-merge"),
]
