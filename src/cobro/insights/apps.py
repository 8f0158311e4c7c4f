from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "cobro.insights"
    label = "insights"
