"""Errors every layer may raise, kept at the bottom so that no layer imports another for them."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config file, variable or flag that cannot be used; the message says which."""


class StoreError(RuntimeError):
    """The store is missing, damaged or built for something else; the message says what to do."""


class DocumentChanged(RuntimeError):
    """The file a quote was read from has changed since (or was replaced): what it shows
    now is not what was quoted."""
