from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cobro.portal"
    label = "portal"
