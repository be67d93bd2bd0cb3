"""Where ``assay serve``'s start-up time and memory go, phase by phase (one fresh process).

Replays, in order, what ``assay serve sesame@production`` does before it answers: import
the command line, import the server (FastAPI, uvicorn), open the store, resolve the
reference, read and check the artifact's bytes, ask skops which types the file holds, and
decode it; each phase's wall time and the process's RSS after it. Then, for reference (not
part of start-up): the same fitted pipeline through ``pickle`` (MLflow's format), and the
model's own ``predict_proba`` time for 1 and 32 rows, the floor under any server's latency.

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


def main() -> None:
    phases: list[dict[str, float | str]] = [
        {"phase": "interpreter start (before this script's first line)", "rss_mib": rss_mib()}
    ]
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases.append({"phase": name, "seconds": now - mark, "rss_mib": rss_mib()})
        mark = now

    import assay.cli  # noqa: PLC0415  (what the console script imports)

    phase("import assay.cli (the command line)")
    import assay.serving.http  # noqa: F401, PLC0415

    phase("import assay.serving.http (FastAPI, uvicorn, the server)")
    from assay.registry import resolve  # noqa: PLC0415
    from assay.settings import Settings  # noqa: PLC0415
    from assay.workspace import open_workspace  # noqa: PLC0415

    ws = open_workspace(Settings.from_env())
    phase("open the store")
    record = resolve(ws, "sesame@production")
    phase("resolve sesame@production")
    data = ws.artifacts.get_bytes(record.digest)
    phase(f"read the artifact and check its sha256 ({len(data) / 2**20:.1f} MiB)")
    import sklearn.feature_extraction.text  # noqa: PLC0415
    import sklearn.linear_model  # noqa: PLC0415
    import sklearn.pipeline  # noqa: F401, PLC0415

    phase("import the pipeline's scikit-learn modules (pipeline, text, linear_model)")
    import skops.io as sio  # noqa: PLC0415

    phase("import skops.io (what it adds beyond those)")
    untrusted = sio.get_untrusted_types(data=data)
    phase("skops get_untrusted_types (reads the whole file)")
    model = sio.loads(data, trusted=untrusted)
    phase("skops loads (decode the pipeline)")
    total = time.perf_counter() - T0

    # -- for reference, outside start-up -----------------------------------------------------
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
    # CPU time (the pipeline scores on one thread), comparable with the servers' CPU time per
    # request, and less disturbed than wall time by whatever else the machine runs.
    predict_cpu: dict[str, float] = {}
    predict_wall: dict[str, float] = {}
    if texts:
        for rows in (1, 32):
            cpu, wall = [], []
            for i in range(60):
                batch = [texts[(i * 32 + j) % len(texts)] for j in range(rows)]
                start, start_cpu = time.perf_counter(), time.process_time()
                model.predict_proba(batch)
                cpu.append(time.process_time() - start_cpu)
                wall.append(time.perf_counter() - start)
            predict_cpu[str(rows)] = statistics.median(cpu[10:])
            predict_wall[str(rows)] = statistics.median(wall[10:])
    print(
        json.dumps(
            {
                "task": "startup_phases",
                "phases": phases,
                "in_script_s": total,
                "script_s": time.perf_counter() - T0,
                "artifact_bytes": len(data),
                "untrusted_types": len(untrusted),
                "pickle_bytes": len(pickled),
                "pickle_loads_s": pickle_s,
                "predict_proba_cpu_median_s": predict_cpu,
                "predict_proba_wall_median_s": predict_wall,
                "rss_mib_end": rss_mib(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
