"""What the body readers' property tests share: replayable settings, and what a call
refused with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

from assay.serving.protocol import BadRequest

PROPERTIES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure can be replayed
    suppress_health_check=list(HealthCheck),
)


def refused(call: Callable[[], Any]) -> BadRequest | None:
    """What ``call`` raised, when a BadRequest; None when it returned. Anything else raised
    fails the test."""
    try:
        call()
    except BadRequest as exc:
        return exc
    return None
