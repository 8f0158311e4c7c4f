"""Cobro: friendly collections, done by software."""

__version__ = "0.1.0"
