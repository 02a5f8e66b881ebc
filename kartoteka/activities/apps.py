from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "kartoteka.activities"
    label = "activities"
