from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "cobro.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from cobro.api import receivers  # noqa: F401
