"""The team server seen from a process working through it: a connection and repositories."""

from assay.remote.blobs import HttpBlobs
from assay.remote.connection import Connection, connect, number, parsed, spelled, token_for
from assay.remote.credentials import Credential, forget, load, save
from assay.remote.models import HttpModels
from assay.remote.recording import Recording, recording, runs_for
from assay.remote.runs import HttpRuns
from assay.remote.steps import HttpSteps

__all__ = [
    "Connection",
    "Credential",
    "HttpBlobs",
    "HttpModels",
    "HttpRuns",
    "HttpSteps",
    "Recording",
    "connect",
    "forget",
    "load",
    "number",
    "parsed",
    "recording",
    "runs_for",
    "save",
    "spelled",
    "token_for",
]
