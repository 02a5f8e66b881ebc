from django.urls import path

from kartoteka.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
