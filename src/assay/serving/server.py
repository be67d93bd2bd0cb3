"""A model server's state: the served slots, their batchers, the prediction log, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import ConfigError
from assay.metadata.late_labels import LabelsAdded, LateLabel, store_labels, unmatched
from assay.serving.answered import Answered
from assay.serving.batching import Batched, MicroBatcher
from assay.serving.loaded import LoadedModel
from assay.serving.logprocess import ProcessSink
from assay.serving.metrics import ServerMetrics
from assay.serving.predlog import PredictionLog
from assay.serving.slots import ModelSlot
from assay.serving.table import Table
from assay.serving.tables import score_tables
from assay.workspace import Workspace

__all__ = ["MIN_TOKEN", "ModelServer", "ServeOptions", "check_options", "exposure", "is_loopback"]


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How a server batches, limits, watches and logs."""

    max_batch: int = 128
    max_wait_ms: float = 2.0
    max_body_bytes: int = 1_000_000
    poll_s: float = 2.0
    log_predictions: bool = True
    retention_days: float | None = 30.0
    # Late labels feed retraining, so the route that takes them is off unless asked for,
    # and then needs this bearer token.
    accept_labels: bool = False
    labels_token: str | None = None
    # Where the server listens: on loopback, requests must name a loopback host.
    host: str = "127.0.0.1"
    # A client gets this long for a request's headers, and again for its body, before it
    # is cut off; beyond max_connections open at once, requests are answered 503.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    max_connections: int = 1000
    # Of each text, the prediction log keeps this many characters (and, when it keeps
    # fewer than there were, the whole text's length and sha256).
    log_max_chars: int = 10_000
    # The log is built and written by a process of its own (none for an in-memory store),
    # so that the server's event loop keeps its core for requests.
    log_process: bool = True


MIN_TOKEN = 16


class ModelServer:
    """Serves registry references (``sesame@production``) under their model names.

    Raises:
        ConfigError: two references name the same model, or options are out of range.
    """

    def __init__(self, ws: Workspace, refs: Sequence[str], options: ServeOptions) -> None:
        check_options(options)
        self.ws = ws
        self.options = options
        self.metrics = ServerMetrics()
        self.slots: dict[str, ModelSlot] = {}
        for ref in refs:
            slot = ModelSlot(ws, ref)
            if slot.name in self.slots:
                raise ConfigError(
                    f"{ref} and {self.slots[slot.name].ref} are both model {slot.name!r}",
                    hint="serve one reference per model",
                )
            self.slots[slot.name] = slot
        wait = options.max_wait_ms / 1000
        self.batchers = {
            name: MicroBatcher(slot.loaded, max_batch=options.max_batch, max_wait_s=wait)
            for name, slot in self.slots.items()
        }
        # Tables have batchers of their own: a served alias may move to a tabular version.
        self.table_batchers = {
            name: MicroBatcher(
                slot.loaded, max_batch=options.max_batch, max_wait_s=wait, score=score_tables
            )
            for name, slot in self.slots.items()
        }
        self.log = _prediction_log(ws, options) if options.log_predictions else None
        self._watch: asyncio.Task[None] | None = None
        self.ready = False

    async def start(self) -> None:
        """Start batching and watching the registry; prune the log past its retention."""
        for batcher in (*self.batchers.values(), *self.table_batchers.values()):
            batcher.start()
        if self.options.retention_days is not None and self.log is not None:
            await asyncio.to_thread(
                self.ws.metadata.prune_predictions, self.options.retention_days * 86_400
            )
        self._watch = asyncio.get_running_loop().create_task(self._watch_registry())
        self.ready = True

    async def stop(self) -> None:
        """Finish queued requests, stop watching, and write the whole prediction log."""
        self.ready = False
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for batcher in (*self.batchers.values(), *self.table_batchers.values()):
            await batcher.stop()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    async def _watch_registry(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_s)
            for name, slot in self.slots.items():
                if await asyncio.to_thread(slot.refresh):
                    self.metrics.swaps.labels(name).inc()

    async def score(self, name: str, texts: Any, *, table: bool = False) -> Batched:
        """Score ``texts`` (or, with ``table``, a validated table) with model ``name``
        through its batcher."""
        batchers = self.table_batchers if table else self.batchers
        result = await batchers[name].submit(texts)
        self.metrics.batched(name, str(result.model.version), result.batch_rows)
        return result

    async def add_labels(self, name: str, labels: Sequence[LateLabel], *, user: str) -> LabelsAdded:
        """Store late labels for requests model ``name`` answered, as given by ``user``
        (as ``assay monitor label`` does), once what this server has answered is in the
        prediction log, so that a label for a request just answered is found.

        Raises:
            DataError: none of the labels matches a logged request, or one is not an answer
                the model gives (a class it does not have).
        """
        store = self.ws.metadata
        if self.log is not None:
            await asyncio.to_thread(self.log.flush)
            # With --workers N, the request may have been answered by another process, whose
            # writer writes within about its flush interval: wait a few for it, then give up.
            deadline = time.monotonic() + 4 * self.log.flush_s
            while time.monotonic() < deadline:
                if not await asyncio.to_thread(unmatched, store, labels, name):
                    break
                await asyncio.sleep(self.log.flush_s / 2)
        return await asyncio.to_thread(store_labels, store, labels, user=user, model=name)

    def record(
        self,
        model: LoadedModel,
        request_id: str,
        protocol: str,
        inputs: Sequence[str] | Table,
        started: float,
        answers: Batched,
    ) -> None:
        """Count the answer and queue it for the prediction log: ``inputs`` its texts (or,
        for a tabular model, its table), ``answers`` what the model gave. The log's record
        is built by the log's writer (see ``Answered.record``), not here."""
        elapsed = time.perf_counter() - started
        self.metrics.answered(model.name, str(model.version), protocol, elapsed)
        if self.log is None:
            return
        regressor = model.task == "regression"
        self.log.put(
            Answered(
                request_id=request_id,
                model=model.name,
                version=model.version,
                at=time.time(),
                latency_ms=elapsed * 1000,
                protocol=protocol,
                inputs=inputs,
                predictions=answers.labels,
                probabilities=None if regressor else answers.probabilities,
                classes=model.classes,
                most=self.options.log_max_chars,
            )
        )


def _prediction_log(ws: Workspace, options: ServeOptions) -> PredictionLog:
    url = ws.metadata.shared_url() if options.log_process else None
    if url is None:
        return PredictionLog(ws.metadata)
    return PredictionLog(sink=ProcessSink(url, ws.metadata))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, with or without a port) names this machine only:
    ``localhost`` (and names under it), 127.0.0.0/8 or ::1."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8080
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if name in ("localhost", "localhost.") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure(options: ServeOptions) -> list[str]:
    """What a server with ``options`` lets whom do, said when it starts."""
    if is_loopback(options.host):
        lines = ["reachable from this machine only; requests naming another host are refused"]
    else:
        lines = [
            f"reachable from the network on {options.host}: anyone who can reach it can "
            "score with the served models (put it behind your gateway's authentication)"
        ]
    if options.accept_labels:
        lines.append("late labels: taken from clients with the ASSAY_LABELS_TOKEN bearer token")
    else:
        lines.append("late labels: off (--accept-labels takes them, with a token)")
    return lines


def check_options(options: ServeOptions) -> None:
    """Refuse options a server cannot start with.

    Raises:
        ConfigError: a limit is out of range, or labels are taken without a token.
    """
    if options.max_batch < 1 or options.max_wait_ms < 0 or options.max_body_bytes < 1:
        raise ConfigError(
            "max batch, max wait and max body must be positive",
            hint="for example --max-batch 128 --max-wait-ms 2",
        )
    if min(options.header_timeout_s, options.body_timeout_s) <= 0:
        raise ConfigError("the header and body timeouts must be above 0 seconds")
    if options.max_connections < 1 or options.log_max_chars < 1:
        raise ConfigError("--max-connections and --log-max-chars must be at least 1")
    if options.accept_labels:
        token = options.labels_token or ""
        if len(token) < MIN_TOKEN:
            got = "is not set" if not token else f"is {len(token)} characters"
            raise ConfigError(
                f"--accept-labels needs a token clients must send, and ASSAY_LABELS_TOKEN {got}",
                hint=f"set ASSAY_LABELS_TOKEN to a secret of at least {MIN_TOKEN} characters, "
                "e.g. `export ASSAY_LABELS_TOKEN=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe())')`; clients send Authorization: Bearer <it>",
            )
