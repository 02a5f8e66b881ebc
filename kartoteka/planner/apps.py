from django.apps import AppConfig


class PlannerConfig(AppConfig):
    name = "kartoteka.planner"
    verbose_name = "Planner"
