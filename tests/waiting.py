"""Waiting for something to happen in a test: poll with a deadline, never sleep a fixed time.

A fixed sleep is too long on a quiet machine and too short on a loaded one; a poll goes on
as soon as the thing has happened, and a slow machine only makes the test slower.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, timeout: float = 30.0, message: str, interval: float = 0.01
) -> T:
    """Call ``predicate`` until it returns something true, and return that; fail the test,
    saying ``message`` (what did not happen), when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"after {timeout:g} s: {message}")
        time.sleep(interval)
