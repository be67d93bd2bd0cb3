"""The team server seen from a process that works through it: one connection with the
user's credential, and the store's repositories over its REST API."""

from assay.remote.connection import Connection, connect, number, parsed, spelled, token_for
from assay.remote.credentials import Credential, forget, load, save

__all__ = [
    "Connection",
    "Credential",
    "connect",
    "forget",
    "load",
    "number",
    "parsed",
    "save",
    "spelled",
    "token_for",
]
