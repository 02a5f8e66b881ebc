from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "kartoteka.segments"
    verbose_name = _("segments and analytics")
