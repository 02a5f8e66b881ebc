from django.urls import path

from kartoteka.ivr import step_views, views

app_name = "ivr"
urlpatterns = [
    path("", views.menu_list, name="list"),
    path("new/", views.menu_create, name="create"),
    path("<int:pk>/", views.menu_page, name="menu"),
    path("<int:pk>/settings/", views.menu_save, name="save"),
    path("<int:pk>/delete/", views.menu_delete, name="delete"),
    path("<int:pk>/try/", views.try_it, name="try"),
    path("<int:pk>/nodes/", views.node_save, name="node_add"),
    path("<int:pk>/nodes/<int:node_id>/", views.node_save, name="node_edit"),
    path("<int:pk>/nodes/<int:node_id>/move/", views.node_move, name="node_move"),
    path("<int:pk>/nodes/<int:node_id>/delete/", views.node_delete, name="node_delete"),
]
# The PBX's side, outside sessions: signed like the telephony webhook.
step_urls = [
    path("start/", step_views.start, name="ivr_start"),
    path("<str:token>/", step_views.step, name="ivr_step"),
]
