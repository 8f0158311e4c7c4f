from django.apps import AppConfig


class LedgerConfig(AppConfig):
    verbose_name = "Ledger"
    name = "cobro.ledger"
    label = "ledger"
