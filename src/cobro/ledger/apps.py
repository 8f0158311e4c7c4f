from django.apps import AppConfig


class LedgerConfig(AppConfig):
    verbose_name = "Ledger"
    name = "cobro.ledger"
    label = "ledger"

    def ready(self) -> None:
        from cobro.ledger import search

        search.connect()
