"""Evidently's side of the drift benchmark; run with bench/.venvs/evidently/bin/python.

Loads ``reference.parquet`` and ``current.parquet`` from FOLDER with pandas (pyarrow), runs
``Report([DataDriftPreset()], include_tests=True).run(current, reference)`` with Evidently's
defaults (column types inferred, each column's test and threshold chosen by Evidently), builds
the snapshot's dict, and prints one JSON line: load and compute wall times, flagged columns,
memory, and each column's method, threshold and score.

``include_tests=True`` makes the snapshot carry Evidently's own per-column verdict (a
``Value Drift`` test that fails when the column drifted); a column is flagged when that test
fails. The count is checked against the preset's ``DriftedColumnsCount``.

Usage: ``bench/.venvs/evidently/bin/python bench/monitoring/run_evidently.py FOLDER``
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports below, which are timed as import_s

import importlib.metadata  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

import _common as common  # noqa: E402
import pandas as pd  # noqa: E402
from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

VALUE_DRIFT = "evidently:metric_v2:ValueDrift"
DRIFTED_COUNT = "evidently:metric_v2:DriftedColumnsCount"


def verdicts(result: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], float | None]:
    """Each column's method, threshold, score and verdict; the preset's drifted-column count."""
    columns: dict[str, dict[str, Any]] = {}
    count = None
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"] == DRIFTED_COUNT:
            count = metric["value"]["count"]
        elif config["type"] == VALUE_DRIFT:
            columns[config["column"]] = {
                "method": config["method"],
                "threshold": config["threshold"],
                "score": common.finite(float(metric["value"])),
                "metric_id": metric["id"],
            }
    by_metric = {c["metric_id"]: c for c in columns.values()}
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if params["type"] == VALUE_DRIFT:
            column = by_metric[test["metric_config"]["metric_id"]]
            column["status"] = test["status"]
            column["drift"] = test["status"] == "FAIL"
    for column in columns.values():
        del column["metric_id"]
    return columns, count


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0])
    imported = common.clock()
    mem = common.memory("import")
    reference = pd.read_parquet(args.folder / "reference.parquet")
    current = pd.read_parquet(args.folder / "current.parquet")
    loaded = common.clock()
    mem |= common.memory("load")
    cpu_before = common.cpu_s()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
        result = snapshot.dict()
    done = common.clock()
    cpu_compute = common.cpu_s() - cpu_before
    mem |= common.memory("compute")
    tables_mib = sum(int(t.memory_usage(deep=True).sum()) for t in (reference, current)) / 2**20
    columns, count = verdicts(result)
    flagged = [name for name, c in columns.items() if c.get("drift")]
    warning_counts: dict[str, int] = {}
    for w in caught:
        key = f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
        warning_counts[key] = warning_counts.get(key, 0) + 1
    common.result_line(
        {
            "tool": "evidently",
            "version": importlib.metadata.version("evidently"),
            "rows": len(reference),
            "current_rows": len(current),
            "settings": {"preset": "DataDriftPreset()", "include_tests": True},
            "import_s": imported - STARTED,
            "load_s": loaded - imported,
            "compute_s": done - loaded,
            "total_s": done - imported,
            "compute_cpu_s": cpu_compute,
            "flagged": flagged,
            "drifted_columns_count": count,
            "count_matches": count == len(flagged),
            "memory": mem,
            "tables_mib": tables_mib,
            "warnings": warning_counts,
            "columns": columns,
        }
    )


if __name__ == "__main__":
    main()
