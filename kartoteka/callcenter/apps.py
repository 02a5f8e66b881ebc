from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallcenterConfig(AppConfig):
    name = "kartoteka.callcenter"
    verbose_name = _("Contact centre")
