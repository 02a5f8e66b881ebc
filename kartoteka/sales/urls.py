from django.urls import include, path

from kartoteka.sales import pipeline_views, views

app_name = "sales"
urlpatterns = [
    path("catalog/", include("kartoteka.sales.catalog_urls")),
    path("reports/", include("kartoteka.sales.report_urls")),
    path("", views.board, name="board"),
    path("list/", views.deal_list, name="list"),
    path("new/", views.create, name="create"),
    path("clients/", views.client_search, name="client_search"),
    path("pipelines/", views.pipeline_list, name="pipelines"),
    path("pipelines/<int:pk>/stages/", pipeline_views.pipeline_stages, name="pipeline_stages"),
    path("stages/<int:pk>/delete/", pipeline_views.stage_delete, name="stage_delete"),
    path("columns/<int:stage_id>/", views.column, name="column"),
    path("<int:pk>/", views.card, name="card"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/trash/", views.trash, name="trash"),
    path("<int:pk>/restore/", views.restore, name="restore"),
]
