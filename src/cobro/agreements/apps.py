from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "cobro.agreements"
    label = "agreements"
