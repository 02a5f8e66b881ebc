from django.urls import path

from kartoteka.callcenter import kpi_views, settings_views, views
from kartoteka.callcenter.providers.webhook import views as webhook

app_name = "callcenter"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("console/", views.console, name="console"),
    path("console/status/", views.set_status, name="status"),
    path("dial/", views.dial, name="dial"),
    path("board/", views.board, name="board"),
    path("callbacks/", views.callbacks_report, name="callbacks"),
    path("kpi/", kpi_views.kpi_page, name="kpi"),
    path("wallboard/", kpi_views.wallboard, name="wallboard"),
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/<str:kind>/", settings_views.add, name="settings_add"),
    path("settings/<str:kind>/<int:pk>/toggle/", settings_views.toggle, name="settings_toggle"),
    path("<int:pk>/", views.card, name="card"),
    path("<int:pk>/pop/", views.pop, name="pop"),
    path("<int:pk>/client/", views.link_client, name="link_client"),
]
webhook_urls = [path("webhook/", webhook.receive, name="telephony_webhook")]
