from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "kartoteka.clients"
    label = "clients"
