from django.urls import path

from kartoteka.dedup import views

app_name = "dedup"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("pairs/<int:pk>/", views.compare, name="compare"),
    path("pairs/<int:pk>/merge/", views.merge, name="merge"),
    path("pairs/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("merges/", views.merges, name="merges"),
    path("merges/<int:pk>/unmerge/", views.unmerge, name="unmerge"),
    path("settings/", views.settings_page, name="settings"),
    path("check/<str:kind>/", views.check, name="check"),
]
