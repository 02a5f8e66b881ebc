from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallscriptsConfig(AppConfig):
    name = "kartoteka.callscripts"
    verbose_name = _("Call scripts")
