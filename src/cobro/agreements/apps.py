from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "cobro.agreements"
    label = "agreements"
    verbose_name = _("Acuerdos y condiciones")

    def ready(self) -> None:
        from cobro.agreements import receivers  # noqa: F401  (connects the signal receivers)
