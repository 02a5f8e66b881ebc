from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "kartoteka.transfer"
    label = "transfer"
