"""What a server serves under one name: the version a reference points at, swapped when the
alias moves."""

from __future__ import annotations

import logging
import threading

from assay.errors import AssayError
from assay.registry import parse_ref, resolve
from assay.serving.loaded import LoadedModel, load_version
from assay.workspace import Workspace

__all__ = ["ModelSlot"]

log = logging.getLogger("assay.serving")


class ModelSlot:
    """A served reference (``sesame@production``) and the model it currently resolves to.

    ``refresh`` resolves the reference again; when it names another version, that version
    is loaded and verified first and then swapped in with one assignment, so a request
    never sees a half-loaded model and requests in flight finish on the old one.
    """

    def __init__(self, ws: Workspace, ref: str) -> None:
        self.ws = ws
        self.ref = ref
        self.name = parse_ref(ref).name
        self._lock = threading.Lock()
        self.current: LoadedModel = load_version(ws, resolve(ws, ref))
        self.swaps = 0

    def loaded(self) -> LoadedModel:
        """The model serving now."""
        return self.current

    def refresh(self) -> bool:
        """Follow the reference; returns True when a new version was swapped in. A version
        that fails to load is reported and the old one stays."""
        with self._lock:
            try:
                record = resolve(self.ws, self.ref)
                if record.version == self.current.version:
                    return False
                loaded = load_version(self.ws, record)
            except AssayError as exc:
                log.warning("%s: keeping version %s: %s", self.ref, self.current.version, exc)
                return False
            previous = self.current.version
            self.current = loaded
            self.swaps += 1
        log.info("%s: now serving version %s (was %s)", self.ref, loaded.version, previous)
        return True
