from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "cobro.api"
    label = "api"
