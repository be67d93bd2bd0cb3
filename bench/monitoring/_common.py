"""Stdlib-only helpers shared by ``run_assay.py`` and ``run_evidently.py``.

Each runner works in its own interpreter (assay in the project's, Evidently in
``bench/.venvs/evidently``), compares one size's reference and current parquet files and
prints one JSON line built by :func:`result_line`. Nothing here imports numpy, pandas or a
drift library.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

clock = time.perf_counter


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", type=Path, help="holds reference.parquet and current.parquet")
    return parser.parse_args()


def peak_rss_mib() -> float:
    """The process's peak resident set so far (``ru_maxrss``; KiB on Linux), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """The process's resident set now (``VmRSS``), in MiB; 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(phase: str) -> dict[str, float]:
    return {f"rss_{phase}_mib": round(rss_mib(), 1), f"peak_{phase}_mib": round(peak_rss_mib(), 1)}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


LIBRARIES = ("pandas", "numpy", "scipy", "pyarrow")


def result_line(record: dict[str, Any]) -> None:
    """Print the runner's one JSON line, with the interpreter's and the libraries' versions
    and the process's peak RSS (read last, so it covers everything the runner did)."""
    versions = {"python": platform.python_version()}
    versions |= {name: importlib.metadata.version(name) for name in LIBRARIES}
    record = {**record, "versions": versions, "peak_rss_mib": peak_rss_mib()}
    sys.stdout.write(json.dumps(record, sort_keys=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def finite(value: float) -> float | str:
    """JSON has no infinity or NaN: such values travel as strings."""
    return value if value == value and abs(value) != float("inf") else str(value)
