from django.urls import path

from kartoteka.transfer import import_views, views

urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/new/", views.export_list, name="export_new"),
    path("exports/<int:pk>/decide/", views.decide, name="export_decide"),
    path("exports/<int:pk>/download/", views.download, name="export_download"),
    path("imports/", import_views.import_list, name="imports"),
    path("imports/<int:pk>/", import_views.import_job, name="import_job"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/run/", import_views.import_run, name="import_run"),
    path("imports/<int:pk>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/undo/", import_views.import_undo, name="import_undo"),
    path("imports/<int:pk>/rejected/", import_views.import_rejected, name="import_rejected"),
]
