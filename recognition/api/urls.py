from django.urls import path

from recognition.api import views

urlpatterns = [
    path("identify", views.IdentifyView.as_view(), name="identify"),
]
