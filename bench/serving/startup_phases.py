"""Where ``assay serve``'s start-up time and memory go, phase by phase (one fresh process).

Replays, in order, what ``assay serve sesame@production`` does before it answers: import
the command line, import the server (FastAPI, uvicorn), open the store, resolve the
reference, then load the version for serving (``assay.serving.loaded.load_version``: the
compiled serving form's bytes read, checked against their sha256 and decoded); each phase's
wall time and the process's RSS after it. Then, for reference (not part of start-up): what
the scikit-learn path that assay no longer takes for this model would add (the imports,
skops decoding the pipeline, and the same pipeline through ``pickle``, MLflow's format), and
the CPU time of one scoring call for 1 and 32 rows, compiled and scikit-learn.

Run in the project interpreter with ASSAY_HOME pointing at a store that has
``sesame@production``; prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Phases:
    """Named phases in order: each one's wall time since the one before, and RSS after it."""

    def __init__(self) -> None:
        self.done: list[dict[str, float | str]] = []
        self.mark = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.done.append({"phase": name, "seconds": now - self.mark, "rss_mib": rss_mib()})
        self.mark = now


def main() -> None:
    start_rss = rss_mib()
    phase = Phases()

    import assay.cli  # noqa: PLC0415  (what the console script imports)

    phase("import assay.cli (the command line)")
    import assay.server.model.http  # noqa: F401, PLC0415

    phase("import assay.server.model.http (FastAPI, uvicorn, the server)")
    from assay.registry import resolve  # noqa: PLC0415
    from assay.serving.loaded import load_version  # noqa: PLC0415
    from assay.settings import Settings  # noqa: PLC0415
    from assay.workspace import open_workspace  # noqa: PLC0415

    ws = open_workspace(Settings.from_env())
    phase("open the store")
    record = resolve(ws, "sesame@production")
    phase("resolve sesame@production")
    loaded = load_version(ws, record)
    phase(f"load the version for serving (form: {loaded.form}; read, check sha256, decode)")
    total = time.perf_counter() - T0
    heavy = sorted(m for m in ("sklearn", "scipy", "pandas", "skops") if m in sys.modules)

    # -- for reference, outside start-up: the scikit-learn path ------------------------------
    before = rss_mib()
    step = Phases()

    import sklearn.feature_extraction.text  # noqa: PLC0415
    import sklearn.linear_model  # noqa: PLC0415
    import sklearn.pipeline  # noqa: F401, PLC0415

    step("import the pipeline's scikit-learn modules (pipeline, text, linear_model)")
    import skops.io  # noqa: F401, PLC0415

    step("import skops.io (what it adds beyond those)")
    model = ws.artifacts.get(record.digest, record.codec)
    step("read, check and decode the skops pipeline")
    import pickle  # noqa: PLC0415

    pickled = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    start = time.perf_counter()
    pickle.loads(pickled)  # the bytes pickle.dumps made just above, in this process
    pickle_s = time.perf_counter() - start

    texts = [
        line.rsplit("@", 1)[0].strip()
        for line in (Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/dev/null"))
        .read_text(encoding="iso-8859-1")
        .splitlines()
        if "@" in line
    ]
    # CPU time (scoring runs on one thread), comparable with the servers' CPU time per
    # request, and less disturbed than wall time by whatever else the machine runs.
    scoring: dict[str, dict[str, float]] = {}
    if texts:
        for label, scorer in (("compiled", loaded.model), ("scikit-learn", model)):
            for rows in (1, 32):
                cpu = []
                for i in range(60):
                    batch = [texts[(i * 32 + j) % len(texts)] for j in range(rows)]
                    start_cpu = time.process_time()
                    scorer.predict_proba(batch)
                    cpu.append(time.process_time() - start_cpu)
                scoring.setdefault(label, {})[str(rows)] = statistics.median(cpu[10:])
    print(
        json.dumps(
            {
                "task": "startup_phases",
                "phases": [
                    {
                        "phase": "interpreter start (before this script's first line)",
                        "rss_mib": start_rss,
                    },
                    *phase.done,
                ],
                "in_script_s": total,
                "script_s": time.perf_counter() - T0,
                "form": loaded.form,
                "heavy_modules_at_start": heavy,
                "rss_mib_at_start": before,
                "sklearn_path": step.done,
                "pickle_bytes": len(pickled),
                "pickle_loads_s": pickle_s,
                "scoring_cpu_median_s": scoring,
                "rss_mib_end": rss_mib(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
