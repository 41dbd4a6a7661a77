from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApuConfig(AppConfig):
    name = "apu"
    verbose_name = _("APU pathway")
