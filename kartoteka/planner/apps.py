from django.apps import AppConfig


class PlannerConfig(AppConfig):
    name = "kartoteka.planner"
    verbose_name = "Planner"

    def ready(self) -> None:
        # Substitutes see an absent colleague's planned tasks and their clients.
        from kartoteka.planner import absence

        absence.register()
