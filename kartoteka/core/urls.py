from django.urls import path

from kartoteka.core import realtime, views

urlpatterns = [
    path("", views.home, name="home"),
    path("events/", realtime.stream_view, name="events"),
]
