from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "cobro.messaging"
    label = "messaging"
