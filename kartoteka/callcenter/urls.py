from django.urls import path

from kartoteka.callcenter import acd_views, kpi_views, settings_views, views
from kartoteka.callcenter.providers.webhook import views as webhook
from kartoteka.staffing import views as staffing

app_name = "callcenter"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("console/", views.console, name="console"),
    path("console/status/", views.set_status, name="status"),
    path("dial/", views.dial, name="dial"),
    path("board/", views.board, name="board"),
    path("board/live/", views.board_live, name="board_live"),
    path("callbacks/", views.callbacks_report, name="callbacks"),
    path("staffing/", staffing.page, name="staffing"),
    path("kpi/", kpi_views.kpi_page, name="kpi"),
    path("wallboard/", kpi_views.wallboard, name="wallboard"),
    path("wallboard/live/", kpi_views.wallboard_live, name="wallboard_live"),
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/callbacks/default/", settings_views.callback_default, name="callback_default"),
    path("settings/operators/<int:pk>/", settings_views.edit_operator, name="operator_edit"),
    path(
        "settings/operators/<int:pk>/remove/",
        settings_views.remove_operator,
        name="operator_remove",
    ),
    path("settings/<str:kind>/", settings_views.add, name="settings_add"),
    path("settings/<str:kind>/<int:pk>/toggle/", settings_views.toggle, name="settings_toggle"),
    path("acd/", acd_views.acd_page, name="acd"),
    path("acd/skills/", acd_views.add_skill, name="acd_skill_add"),
    path("acd/skills/<int:pk>/remove/", acd_views.remove_skill, name="acd_skill_remove"),
    path("acd/cell/", acd_views.set_cell, name="acd_cell"),
    path("acd/queues/<int:pk>/", acd_views.queue_routing, name="acd_queue"),
    path("<int:pk>/", views.card, name="card"),
    path("<int:pk>/pop/", views.pop, name="pop"),
    path("<int:pk>/client/", views.link_client, name="link_client"),
]
webhook_urls = [path("webhook/", webhook.receive, name="telephony_webhook")]
