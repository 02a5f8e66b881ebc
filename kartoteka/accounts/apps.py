from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kartoteka.accounts"
    label = "accounts"
