"""assay: a linear chain of N no-op steps run by the local runner.

Runs in the interpreter where assay is installed (``pip install -e .``).
Each process uses a fresh project directory, so the store (SQLite metadata
and the content-addressed artifact folder under ``<tmp>/.assay``) starts
empty. Untimed: building ``Settings``, creating the empty store (what ``assay init``
does, and what a first ``assay run`` does by itself; the counterpart of ZenML's
client initialisation, also untimed) and, unless ``--no-warmup``, one
2-step run in a *separate* throwaway project, so lazily imported code is
loaded without warming this store's cache. Timed: ``assay.run(chain)`` cold
(empty cache: every step executes and records its execution, input and
output events, artifacts and lineage) and again cached (every step a cache
hit, recorded as a cached execution).

Run: ``python bench/orchestration/run_assay.py --n 10``
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from _common import check, parse_args, result_line, timed

import assay
from assay import Settings, pipeline, step
from assay.workspace import open_workspace


@step
def start() -> int:
    return 0


@step
def inc(x: int) -> int:
    return x + 1


@pipeline
def chain(n: int = 10) -> None:
    x = start()
    for _ in range(n - 1):
        x = inc(x)


def run_chain(settings: Settings, n: int) -> object:
    return assay.run(chain, params={"n": n}, settings=settings)


def statuses(result: object) -> list[str]:
    return [str(getattr(e.status, "value", e.status)) for e in result.executions]  # type: ignore[attr-defined]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    root = Path(tempfile.mkdtemp(prefix="bench-assay-"))
    try:
        if not args.no_warmup:
            run_chain(Settings.for_project(root / "warmup"), 2)
        project = root / "chain"
        project.mkdir()
        settings = Settings.for_project(project)
        open_workspace(settings).close()
        cold_s, cold = timed(lambda: run_chain(settings, args.n))
        cached_s, cached = timed(lambda: run_chain(settings, args.n))

        for label, result, expected in (("cold", cold, "succeeded"), ("cached", cached, "cached")):
            run_status = str(getattr(result.status, "value", result.status))  # type: ignore[attr-defined]
            check(run_status == "succeeded", f"{label} run status {run_status}")
            got = statuses(result)
            check(len(got) == args.n, f"{label} run has {len(got)} executions, expected {args.n}")
            check(all(s == expected for s in got), f"{label} run statuses {sorted(set(got))}")
        last_cold, last_cached = cold.executions[-1], cached.executions[-1]  # type: ignore[attr-defined]
        check(
            last_cold.outputs == last_cached.outputs,
            "cached run's final output differs from the cold run's",
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        result_line(
            "assay",
            getattr(assay, "__version__", "unknown"),
            args.n,
            cold_s,
            cached_s,
            warmup=not args.no_warmup,
            includes="assay.run on a new, empty local store (SQLite + artifact folder): "
            "run, executions, events, artifacts and lineage recorded; Settings and store "
            "creation untimed",
        )
    )


if __name__ == "__main__":
    main()
