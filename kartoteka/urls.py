from django.urls import include, path

urlpatterns = [
    path("", include("kartoteka.core.urls")),
    path("", include("kartoteka.accounts.urls")),
    path("clients/", include("kartoteka.clients.urls")),
]
