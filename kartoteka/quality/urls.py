from django.urls import path

from kartoteka.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("scores/", views.scores, name="scores"),
    path("sample/", views.sample, name="sample"),
    path("scorecards/", views.scorecard_list, name="scorecards"),
    path("scorecards/new/", views.scorecard_edit, name="scorecard_new"),
    path("scorecards/<int:pk>/", views.scorecard_edit, name="scorecard"),
    path("scorecards/<int:pk>/delete/", views.scorecard_delete, name="scorecard_delete"),
    path("calls/<int:call_pk>/", views.evaluate_call, name="evaluate_call"),
    path("<int:pk>/", views.evaluation, name="evaluation"),
    path("<int:pk>/reply/", views.reply, name="reply"),
]
