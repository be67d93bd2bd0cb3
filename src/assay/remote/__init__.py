"""The team server seen from a process working through it: a connection and repositories."""

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
