from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IvrConfig(AppConfig):
    name = "kartoteka.ivr"
    verbose_name = _("Voice menus")
