"""The prediction log written by a process of its own, beside the model server: the records
are built and written there, so that the server's event loop keeps the GIL (and its core)
for requests. Without it, writing the log took about half of a busy server's time."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from assay.metadata import MetadataStore, open_metadata
from assay.serving.predlog import Item, StoreSink, as_record

__all__ = ["ProcessSink"]

log = logging.getLogger("assay.serving")

_STOP_WAIT_S = 60.0


class ProcessSink:
    """Sends batches to a writer process (started here: ``python -m
    assay.serving.logprocess``, which imports only what writing takes, not the server)
    that opens the database at ``url`` itself. If that process dies, batches are written
    from the server's writer thread into ``store`` instead, and what the process may not
    have written is counted as dropped."""

    def __init__(self, url: str, store: MetadataStore) -> None:
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        # The same assay as this process's, first on the child's path.
        here = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(child_in), str(child_out)],
            pass_fds=(child_in, child_out),
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path},
            # Its own session: Ctrl-C at a terminal reaches the server, which stops, drains
            # its queue and then tells this process to stop once everything is written.
            start_new_session=True,
        )
        os.close(child_in)  # the child's ends: held by the child alone from now on
        os.close(child_out)
        self._inbox = Connection(to_child, readable=False)
        self._outbox = Connection(from_child, writable=False)
        self._fallback = StoreSink(store)
        self._dead = False
        self._unsynced = 0  # records sent since the child last said what it wrote
        self._syncs = 0
        self._seen = (0, 0)  # the child's totals when it last said

        try:
            self._inbox.send(("open", url))
        except OSError as exc:
            self._lost(exc)

    @property
    def alive(self) -> bool:
        """Whether the writer process is taking the batches."""
        return not self._dead and self._process.poll() is None

    def write(self, items: list[Item]) -> tuple[int, int]:
        if not self._dead:
            try:
                self._inbox.send(("records", items))
                self._unsynced += len(items)
                return 0, 0
            except (OSError, ValueError) as exc:
                lost = self._lost(exc)
                written, dropped = self._fallback.write(items)
                return written, dropped + lost
        return self._fallback.write(items)

    def sync(self) -> tuple[int, int]:
        return self._ask("sync")

    def close(self) -> tuple[int, int]:
        counts = self._ask("stop")
        try:
            self._process.wait(_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("prediction log: the writer process did not stop; ending it")
            self._process.kill()
            self._process.wait()
        self._inbox.close()
        self._outbox.close()
        return counts

    def _ask(self, kind: str) -> tuple[int, int]:
        """Send ``kind`` (sync or stop) and wait for the child's totals."""
        if self._dead:
            return 0, 0
        self._syncs += 1
        try:
            self._inbox.send((kind, self._syncs))
            while True:
                said, seq, written, dropped = self._outbox.recv()
                if said == kind and seq == self._syncs:
                    break
        except (OSError, EOFError, ValueError) as exc:
            return 0, self._lost(exc)
        self._unsynced = 0
        since = (written - self._seen[0], dropped - self._seen[1])
        self._seen = (written, dropped)
        return since

    def _lost(self, exc: BaseException) -> int:
        """The child is gone: from now on the writer thread writes; what was sent and never
        confirmed is counted as lost (some of it may be in the database)."""
        self._dead = True
        lost, self._unsynced = self._unsynced, 0
        log.error(
            "prediction log: the writer process stopped (%s); the server writes the log "
            "itself from now on; up to %d records sent to it may be lost",
            type(exc).__name__,
            lost,
        )
        return lost


def _write_in_child(inbox: Connection, outbox: Connection) -> None:
    """The writer process: open the database it is told, write each batch as it comes,
    answer each sync with its totals, stop when told (or when the server is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        kind, url = inbox.recv()
    except EOFError:
        return
    store = open_metadata(url, create=False)
    written = dropped = 0
    try:
        while True:
            try:
                message: tuple[Any, ...] = inbox.recv()
            except EOFError:
                return  # the server is gone without saying so
            kind = message[0]
            if kind == "records":
                items = message[1]
                try:
                    store.log_predictions([as_record(item) for item in items])
                    written += len(items)
                except Exception as exc:
                    dropped += len(items)
                    log.warning("prediction log: %d records not written: %s", len(items), exc)
                continue
            outbox.send((kind, message[1], written, dropped))
            if kind == "stop":
                return
    finally:
        store.close()


if __name__ == "__main__":
    _write_in_child(
        Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    )
