from django.urls import path

from kartoteka.planner import absence_views, calendar_views, feed_views, report_views, views

app_name = "planner"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.card, name="task"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/postpone/", views.postpone, name="postpone"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("targets/", views.target_search, name="target_search"),
    path("client/<int:pk>/", views.client_tasks, name="client_tasks"),
    path("deal/<int:pk>/", views.deal_tasks, name="deal_tasks"),
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar/events/", calendar_views.events, name="calendar_events"),
    path("calendar/move/", calendar_views.move, name="calendar_move"),
    path("calendar/subscription/", feed_views.feed_settings, name="feed"),
    path("calendar/subscription/new/", feed_views.feed_new, name="feed_new"),
    path("calendar/subscription/revoke/", feed_views.feed_revoke, name="feed_revoke"),
    path("ical/<str:key>.ics", feed_views.feed, name="ical"),
    path("report/", report_views.team, name="team_report"),
    path("rules/", report_views.contact_rules, name="rules"),
    path("rules/<int:pk>/clients/", report_views.rule_clients, name="rule_clients"),
    path("absences/", absence_views.absences, name="absences"),
    path("absences/new/", absence_views.absence_new, name="absence_new"),
    path("absences/<int:pk>/delete/", absence_views.absence_end, name="absence_end"),
    path("absences/take-over/", absence_views.take_over, name="take_over"),
]
