from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "cobro.providers"
    label = "providers"
