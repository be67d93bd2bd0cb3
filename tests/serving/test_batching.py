"""Micro-batching: concurrent requests share model calls, never split, never over the cap."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from assay.serving.batching import MicroBatcher


class Recorder:
    """Stands in for a loaded model: labels each text with itself and records every call,
    and when (``time.monotonic``) each call came."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[int] = []
        self.called_at: list[float] = []
        self.threads: list[int] = []
        self.lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        with self.lock:
            self.calls.append(len(texts))
            self.called_at.append(time.monotonic())
            self.threads.append(threading.get_ident())
        time.sleep(self.delay_s)
        return list(texts), [[float(len(t))] for t in texts]


async def _submit_all(batcher: MicroBatcher, requests: list[list[str]]) -> list[Any]:
    batcher.start()
    try:
        return await asyncio.gather(*(batcher.submit(r) for r in requests))
    finally:
        await batcher.stop()


def run(
    requests: list[list[str]], max_batch: int, wait_s: float = 0.05
) -> tuple[list[Any], list[int]]:
    model = Recorder()
    batcher = MicroBatcher(lambda: model, max_batch=max_batch, max_wait_s=wait_s)  # type: ignore[arg-type, return-value]
    answers = asyncio.run(_submit_all(batcher, requests))
    return answers, model.calls


def test_concurrent_requests_share_calls_and_get_their_own_rows_back() -> None:
    requests = [[f"r{i}-{j}" for j in range(3)] for i in range(10)]
    answers, calls = run(requests, max_batch=128)
    assert calls == [30]  # all ten arrived inside the wait: one call
    for request, answer in zip(requests, answers, strict=True):
        assert answer.labels == request and answer.batch_rows == 30


def test_a_batch_never_goes_over_the_cap_and_a_request_is_never_split() -> None:
    sizes = [32, 32, 32, 32, 32, 5, 200, 7]
    requests = [[f"r{i}-{j}" for j in range(n)] for i, n in enumerate(sizes)]
    answers, calls = run(requests, max_batch=128)
    assert sum(calls) == sum(sizes)
    # 4 x 32 fill a batch; the fifth 32 starts the next with the 5; 200 is alone; then 7.
    assert calls == [128, 37, 200, 7]
    assert all(a.labels == r for a, r in zip(answers, requests, strict=True))


@pytest.mark.parametrize("delay_s", [0.0, 0.01])
def test_small_batches_of_a_quick_model_are_scored_on_the_loop_and_others_off_it(
    delay_s: float,
) -> None:
    model = Recorder(delay_s=delay_s)
    batcher = MicroBatcher(  # type: ignore[arg-type, return-value]
        lambda: model, max_batch=128, max_wait_s=0.001, inline_rows=4, inline_s=0.005
    )

    async def go() -> int:
        batcher.start()
        try:
            for _ in range(3):
                assert (await batcher.submit(["a", "b"])).labels == ["a", "b"]
            large = await batcher.submit([str(i) for i in range(5)])
            assert large.labels == [str(i) for i in range(5)]
        finally:
            await batcher.stop()
        return threading.get_ident()

    loop_thread = asyncio.run(go())
    assert model.calls == [2, 2, 2, 5]
    on_loop = [t == loop_thread for t in model.threads]
    # The first small batch is timed on a thread; a quick model's next ones stay on the
    # loop, a slow model's (10 ms, over the 5 ms allowed) never do, and a batch over
    # inline_rows always goes to a thread, so that requests are read while it is scored.
    assert on_loop == ([False, True, True, False] if delay_s == 0.0 else [False] * 4)


def test_a_model_swapped_in_is_timed_anew_before_its_batches_stay_on_the_loop() -> None:
    quick, slow = Recorder(), Recorder(delay_s=0.01)
    serving = [quick]
    batcher = MicroBatcher(  # type: ignore[arg-type, return-value]
        lambda: serving[0], max_batch=128, max_wait_s=0.001, inline_rows=4, inline_s=0.005
    )

    async def go() -> int:
        batcher.start()
        try:
            for model in (quick, quick, slow, slow):
                serving[0] = model
                await batcher.submit(["a"])
        finally:
            await batcher.stop()
        return threading.get_ident()

    loop_thread = asyncio.run(go())
    assert [t == loop_thread for t in quick.threads] == [False, True]
    assert [t == loop_thread for t in slow.threads] == [False, False]


def test_a_lone_request_waits_at_most_the_wait() -> None:
    wait_s = 0.25
    model = Recorder()
    batcher = MicroBatcher(lambda: model, max_batch=128, max_wait_s=wait_s)  # type: ignore[arg-type, return-value]

    async def lone() -> tuple[float, Any]:
        batcher.start()
        try:
            submitted = time.monotonic()
            return submitted, await asyncio.wait_for(batcher.submit(["only"]), timeout=30)
        finally:
            await batcher.stop()

    submitted, answer = asyncio.run(lone())
    assert model.calls == [1] and answer.labels == ["only"]
    # Timed from the request reaching the batcher to the model being called: the wait plus
    # the hop to the scoring thread, and no HTTP. The margin is for a loaded machine; a
    # batcher that waited four times as long, or for company that never comes, fails it.
    waited = model.called_at[0] - submitted
    assert waited < wait_s + 0.75, f"a lone request waited {waited:.3f} s for a {wait_s} s wait"


class Poisoned(Recorder):
    """Fails any call whose texts include ``"poison"``, as a featuriser fails on one row."""

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        with self.lock:
            self.calls.append(len(texts))
        if "poison" in texts:
            raise UnicodeEncodeError("utf-8", "poison", 0, 1, "surrogates not allowed")
        return list(texts), [[float(len(t))] for t in texts]


def test_one_failing_request_fails_alone_and_the_rest_of_its_batch_is_answered() -> None:
    model = Poisoned()
    batcher = MicroBatcher(lambda: model, max_batch=128, max_wait_s=0.05)  # type: ignore[arg-type, return-value]
    requests = (
        [[f"good {i}"] for i in range(20)] + [["poison"]] + [[f"late {i}"] for i in range(20)]
    )

    async def go() -> list[Any]:
        batcher.start()
        try:
            return await asyncio.gather(
                *(batcher.submit(r) for r in requests), return_exceptions=True
            )
        finally:
            await batcher.stop()

    answers = asyncio.run(go())
    failed = [r for r, a in zip(requests, answers, strict=True) if isinstance(a, Exception)]
    assert failed == [["poison"]]
    assert [a.labels for a in answers if not isinstance(a, Exception)] == [
        r for r in requests if r != ["poison"]
    ]
    assert model.calls[0] == 41  # tried together first, then one by one
