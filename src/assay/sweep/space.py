"""Search spaces from the command line: ``--grid C=0.1,1,10`` and ``--range C=0.01:10:log``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from assay.errors import ConfigError

__all__ = ["Range", "grid_trials", "parse_grid", "parse_range"]


@dataclass(frozen=True, slots=True)
class Range:
    """A numeric interval for a search: integers when both ends are, else floats."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


def parse_grid(specs: Sequence[str]) -> dict[str, list[str]]:
    """``["C=0.1,1,10", "n=1,2"]`` as ``{"C": ["0.1", "1", "10"], "n": ["1", "2"]}``.

    Raises:
        ConfigError: a spec is not NAME=V1,V2,... or names a parameter twice.
    """
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        choices = [v.strip() for v in values.split(",")]
        if not sep or not name.strip() or not all(choices):
            raise ConfigError(
                f"malformed --grid {spec!r}", hint="write --grid NAME=V1,V2,..., e.g. C=0.1,1,10"
            )
        if name.strip() in grid:
            raise ConfigError(f"--grid names {name.strip()!r} twice", hint="give each once")
        grid[name.strip()] = choices
    return grid


def parse_range(specs: Sequence[str]) -> dict[str, Range]:
    """``["C=0.01:10:log", "depth=1:5"]`` as ranges for an Optuna search.

    Raises:
        ConfigError: a spec is not NAME=LOW:HIGH[:log] with LOW < HIGH.
    """
    ranges: dict[str, Range] = {}
    for spec in specs:
        name, sep, body = spec.partition("=")
        parts = body.split(":")
        try:
            if not sep or not name.strip() or len(parts) not in (2, 3):
                raise ValueError
            low, high = float(parts[0]), float(parts[1])
            log = len(parts) == 3 and parts[2].strip().lower() == "log"
            if (len(parts) == 3 and not log) or not low < high or (log and low <= 0):
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"malformed --range {spec!r}",
                hint="write --range NAME=LOW:HIGH or NAME=LOW:HIGH:log with LOW < HIGH "
                "(and LOW > 0 for log)",
            ) from None
        integer = all(p.strip().lstrip("-").isdigit() for p in parts[:2])
        ranges[name.strip()] = Range(low, high, log, integer)
    return ranges


def grid_trials(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the grid's values, in order."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]
