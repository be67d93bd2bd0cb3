"""Adaptive micro-batching: concurrent requests to one model are scored together."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.serving.loaded import LoadedModel

__all__ = ["INLINE_ROWS", "INLINE_S", "Batched", "MicroBatcher", "Scorer", "score_texts"]

# How a batch is scored: the model, and each request's part (its texts, or its table), to
# one answer per row and, for a classifier, one list of probabilities per row.
Scorer = Callable[[LoadedModel, list[Any]], tuple[list[Any], list[list[float]]]]


def score_texts(model: LoadedModel, parts: list[Any]) -> tuple[list[Any], list[list[float]]]:
    """A batch of text requests: their texts in one model call."""
    labels, proba = model.predict([t for part in parts for t in part])
    return list(labels), proba


# A batch of at most INLINE_ROWS rows whose like scored within INLINE_S seconds is scored
# on the event loop itself: handing it to a thread and back costs more than scoring it.
INLINE_ROWS = 128
INLINE_S = 0.015


@dataclass(frozen=True, slots=True)
class Batched:
    """One request's share of a batch: the model that scored it and its rows' results."""

    model: LoadedModel
    labels: list[Any]  # a regressor's numbers
    probabilities: list[list[float]]  # empty for a regressor
    batch_rows: int


@dataclass(slots=True)
class _Pending:
    texts: Sequence[Any]  # the request's rows: texts, or a table
    future: asyncio.Future[Batched]


class MicroBatcher:
    """Collects requests until ``max_batch`` rows or ``max_wait_s`` after the first, then
    scores them in one call off the event loop. A request is never split: one that would take
    a batch over ``max_batch`` starts the next batch, and one larger than ``max_batch`` is
    scored alone.

    A batch of at most ``inline_rows`` rows is scored on the event loop when the model's
    small batches have been taking at most ``inline_s`` seconds (measured as they are
    scored, for each version anew); any other batch on a thread, so that the server goes on
    reading requests meanwhile.

    Alone, a request waits at most ``max_wait_s``; under concurrency, requests that arrive
    while a batch is being scored form the next one, so batches grow with the load and
    throughput with them. The model is read once per batch: every request in a batch is
    answered by the same version, even if a swap happens meanwhile.
    """

    def __init__(
        self,
        current: Callable[[], LoadedModel],
        *,
        max_batch: int = 128,
        max_wait_s: float = 0.002,
        score: Scorer = score_texts,
        inline_rows: int = INLINE_ROWS,
        inline_s: float = INLINE_S,
    ) -> None:
        self.current = current
        self.score = score
        self.inline_rows = inline_rows
        self.inline_s = inline_s
        # How long the model last timed took for a small batch (a moving average), so that
        # a quick model's small batches stay on the loop and a slow model's never do.
        self._timed: tuple[LoadedModel, float] | None = None
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_s)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._carried: _Pending | None = None

    def start(self) -> None:
        """Start the batching loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop after the batch being scored; requests still queued are scored first."""
        while not self._queue.empty() or self._carried is not None:
            await asyncio.sleep(0.001)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, texts: Sequence[Any]) -> Batched:
        """Score ``texts`` (a request's rows) as part of the next batch."""
        future: asyncio.Future[Batched] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(texts, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            carried, self._carried = self._carried, None
            batch = [carried if carried is not None else await self._queue.get()]
            rows = len(batch[0].texts)
            deadline = time.monotonic() + self.max_wait_s
            while rows < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    nxt = (
                        self._queue.get_nowait()
                        if remaining <= 0
                        else await asyncio.wait_for(self._queue.get(), remaining)
                    )
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                if rows + len(nxt.texts) > self.max_batch:
                    self._carried = nxt  # too big for this batch: it starts the next one
                    break
                batch.append(nxt)
                rows += len(nxt.texts)
            await self._score(loop, self.current(), batch, rows)

    def _quick(self, model: LoadedModel) -> bool:
        return (
            self._timed is not None and self._timed[0] is model and self._timed[1] <= self.inline_s
        )

    def _score_timed(
        self, model: LoadedModel, parts: list[Any]
    ) -> tuple[tuple[list[Any], list[list[float]]], float]:
        started = time.perf_counter()
        answer = self.score(model, parts)
        return answer, time.perf_counter() - started

    async def _score(
        self, loop: asyncio.AbstractEventLoop, model: LoadedModel, batch: list[_Pending], rows: int
    ) -> None:
        parts = [p.texts for p in batch]
        small = rows <= self.inline_rows
        try:
            if small and self._quick(model):
                (labels, proba), took = self._score_timed(model, parts)
            else:
                (labels, proba), took = await loop.run_in_executor(
                    None, self._score_timed, model, parts
                )
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            # One request's rows must never fail another's: each is scored again alone, on
            # the same version, so only the culprit gets the error.
            for p in batch:
                await self._score(loop, model, [p], len(p.texts))
            return
        if small:
            before = self._timed[1] if self._timed and self._timed[0] is model else took
            self._timed = (model, 0.8 * before + 0.2 * took)
        start = 0
        for p in batch:
            end = start + len(p.texts)
            if not p.future.done():
                p.future.set_result(
                    Batched(model, labels[start:end], proba[start:end] if proba else [], rows)
                )
            start = end
