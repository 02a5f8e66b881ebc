from django.urls import path

from kartoteka.callscripts import run_views, views

app_name = "callscripts"
urlpatterns = [
    path("", views.script_list, name="list"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/trash/", views.trash, name="trash"),
    path("<int:pk>/restore/", views.restore, name="restore"),
    path("<int:pk>/steps/", views.step, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/", views.step, name="step"),
    path("<int:pk>/steps/<int:step_pk>/delete/", views.delete_step, name="step_delete"),
    path("call/<int:pk>/", run_views.show, name="run"),
    path("call/<int:pk>/answer/", run_views.answer, name="answer"),
    path("call/<int:pk>/back/", run_views.back, name="back"),
]
