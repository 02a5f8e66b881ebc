from django.urls import path

from kartoteka.transfer import views

urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/new/", views.export_list, name="export_new"),
    path("exports/<int:pk>/decide/", views.decide, name="export_decide"),
    path("exports/<int:pk>/download/", views.download, name="export_download"),
]
