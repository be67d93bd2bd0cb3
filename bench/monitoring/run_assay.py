"""assay's side of the drift benchmark; run with the project's interpreter.

Loads ``reference.parquet`` and ``current.parquet`` from FOLDER with pandas (pyarrow), runs
``assay.monitoring.compare_frames`` over all 20 columns with the issue's settings
(``alpha=0.01``, ``min_rows=100``, ``workers=2``; the 6 categorical columns named), builds
the report's dict, and prints one JSON line: load and compute wall times, flagged columns,
memory, and each column's test, statistic, p-values and effect size.

Usage: ``python bench/monitoring/run_assay.py FOLDER``
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports below, which are timed as import_s

import importlib.metadata  # noqa: E402

import _common as common  # noqa: E402
import pandas as pd  # noqa: E402
from data import CATEGORICAL_COLUMNS  # noqa: E402

import assay  # noqa: E402
from assay.monitoring import compare_frames  # noqa: E402

ALPHA = 0.01
MIN_ROWS = 100
WORKERS = 2


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0])
    imported = common.clock()
    mem = common.memory("import")
    reference = pd.read_parquet(args.folder / "reference.parquet")
    current = pd.read_parquet(args.folder / "current.parquet")
    loaded = common.clock()
    mem |= common.memory("load")
    cpu_before = common.cpu_s()
    report = compare_frames(
        reference,
        current,
        categorical=CATEGORICAL_COLUMNS,
        alpha=ALPHA,
        min_rows=MIN_ROWS,
        workers=WORKERS,
    )
    result = report.to_dict()
    done = common.clock()
    cpu_compute = common.cpu_s() - cpu_before
    mem |= common.memory("compute")
    tables_mib = sum(int(t.memory_usage(deep=True).sum()) for t in (reference, current)) / 2**20
    columns = {
        c["column"]: {
            "kind": c["kind"],
            "test": c["test"],
            "statistic": common.finite(c["statistic"]),
            "p_value": common.finite(c["p_value"]),
            "adjusted_p_value": common.finite(c["adjusted_p_value"]),
            "effect": c["effect"],
            "effect_size": common.finite(c["effect_size"]),
            "status": c["status"],
            "drift": c["status"] == "drift",
            "new_categories": c["details"].get("new_categories", []),
        }
        for c in result["columns"]
    }
    common.result_line(
        {
            "tool": "assay",
            "version": importlib.metadata.version("assay"),
            "module": assay.__file__,
            "rows": len(reference),
            "current_rows": len(current),
            "settings": {"alpha": ALPHA, "min_rows": MIN_ROWS, "workers": WORKERS},
            "import_s": imported - STARTED,
            "load_s": loaded - imported,
            "compute_s": done - loaded,
            "total_s": done - imported,
            "compute_cpu_s": cpu_compute,
            "flagged": list(result["drifted"]),
            "memory": mem,
            "tables_mib": tables_mib,
            "columns": columns,
        }
    )


if __name__ == "__main__":
    main()
