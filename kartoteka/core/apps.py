from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kartoteka.core"
    label = "core"
