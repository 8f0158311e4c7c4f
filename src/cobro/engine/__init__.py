"""The pure core of Cobro.

Nothing in this package imports Django, touches a database or the network, or reads the clock: it
takes plain data and an ``as_of`` date and returns decisions. That keeps it fast, property-testable
and replayable over history (see ``docs/architecture.md``).
"""
