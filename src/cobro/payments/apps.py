from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cobro.payments"
    label = "payments"
