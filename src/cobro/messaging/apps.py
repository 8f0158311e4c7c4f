from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "cobro.messaging"
    label = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cobro.messaging import checks, receivers  # noqa: F401 - connect signals, register checks
