from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cobro.portal"
    label = "portal"

    def ready(self):
        from cobro.portal import lists, receivers  # noqa: F401  (connects the signal receivers)

        lists.connect()
