from django.urls import path

from kartoteka.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_new, name="create"),
    path("builder/", views.builder_rows, name="builder"),
    path("preview/", views.preview, name="preview"),
    path("add-to-list/", views.add_to_list, name="add_to_list"),
    path("<int:pk>/", views.segment_detail, name="detail"),
    path("<int:pk>/edit/", views.segment_edit, name="edit"),
    path("<int:pk>/count/", views.segment_count, name="count"),
    path("<int:pk>/delete/", views.segment_delete, name="delete"),
    path("<int:pk>/members/", views.members, name="members"),
]
