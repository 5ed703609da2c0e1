"""The store's one exception family: what can go wrong with durable state, and what to do about it."""

from __future__ import annotations


class StoreError(Exception):
    """Root of every store failure; the server stops with its message when one happens at start."""


class StoreUnavailable(StoreError):
    """The store cannot be written (or reached); nothing of the failed write was stored."""


class CodecError(StoreError, ValueError):
    """A command the journal cannot represent exactly, or a record that is not one."""


class CorruptJournal(StoreError):
    """Durable state that fails its checks where cutting it off would lose valid history."""
