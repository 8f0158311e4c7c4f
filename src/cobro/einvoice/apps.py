from django.apps import AppConfig


class EInvoiceConfig(AppConfig):
    name = "cobro.einvoice"
    label = "einvoice"
