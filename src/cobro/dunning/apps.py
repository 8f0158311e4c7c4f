from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "cobro.dunning"
    label = "dunning"
