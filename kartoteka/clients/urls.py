from django.urls import path

from kartoteka.activities import views as activity_views
from kartoteka.clients import edit_views, privacy_views, settings_views, views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("trash/", views.trash, name="trash"),
    path("new/<str:kind>/", edit_views.client_create, name="create"),
    path("views/", edit_views.view_save, name="view_save"),
    path("reassign/", edit_views.reassign, name="reassign"),
    path("views/<int:view_id>/delete/", edit_views.view_delete, name="view_delete"),
    path("<int:pk>/", views.client_card, name="card"),
    path("<int:pk>/timeline/", views.timeline, name="timeline"),
    path("<int:pk>/edit/", edit_views.client_edit, name="edit"),
    path("<int:pk>/delete/", edit_views.client_delete, name="delete"),
    path("<int:pk>/restore/", edit_views.client_restore, name="restore"),
    path("<int:pk>/people/lookup/", views.lookup, name="lookup"),
    path("<int:pk>/people/", edit_views.link_add, name="link_add"),
    path("<int:pk>/people/<int:link_id>/remove/", edit_views.link_remove, name="link_remove"),
    path("<int:pk>/consents/", edit_views.consent_add, name="consent_add"),
    path("<int:pk>/personal-data.<str:fmt>", privacy_views.subject_request, name="subject_request"),
    path("<int:pk>/erase/", privacy_views.erase, name="erase"),
    path("settings/retention/", privacy_views.retention, name="retention"),
    path("<int:pk>/log/<str:form_name>/", activity_views.log, name="log"),
    path("settings/fields/", settings_views.custom_fields, name="custom_fields"),
    path(
        "settings/fields/<int:field_id>/delete/",
        settings_views.custom_field_delete,
        name="custom_field_delete",
    ),
    path("settings/completeness/", settings_views.completeness_weights, name="completeness"),
]
