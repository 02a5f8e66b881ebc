from django.urls import path

from kartoteka.segments import analytics_views as views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.analytics_settings, name="settings"),
    path("recompute/", views.recompute_now, name="recompute"),
    path("client/<int:pk>/", views.client_classes, name="client"),
    path("<slug:page>/", views.dashboard, name="page"),
]
