"""Signals the cycle sends, so other apps act on its decisions without the cycle knowing them."""

from django.dispatch import Signal

#: Sent inside the cycle's transaction, after the new ``Action`` rows are written, with
#: ``organization`` and ``actions`` (a list of saved ``dunning.Action``). Messaging writes the outbox
#: rows for message and letter actions in the same transaction (transactional outbox); agreements
#: posts fees for fee actions. A receiver that raises rolls the whole cycle back.
actions_created = Signal()
