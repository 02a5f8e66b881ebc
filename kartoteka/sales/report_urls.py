from django.urls import path

from kartoteka.sales import report_views

urlpatterns = [
    path("", report_views.overview, name="reports"),
    path("plans/", report_views.plan_list, name="plans"),
    path("plans/<int:pk>/delete/", report_views.plan_delete, name="plan_delete"),
]
