"""Metaflow anchor: a generated linear flow of N no-op steps, run locally.

Metaflow needs a ``start`` and an ``end`` step, so the generated flow is
``start`` (x = 0), ``inc_1`` ... ``inc_{N-2}`` and ``end``, each adding one:
N steps, final x = N - 1. The flow file is written to a temporary directory
that also holds the local datastore and metadata
(``METAFLOW_DATASTORE_SYSROOT_LOCAL``) and an empty ``METAFLOW_HOME``.

A local Metaflow run is ``python flow.py run``: a runtime process that
launches every task as its own subprocess, persists artifacts (pickled,
content-addressed) and writes local metadata. That command is what is timed
(``--quiet``, via ``subprocess``), so the run time includes one interpreter
start and ``import metaflow`` for the runtime process; ``startup_s`` reports
that fixed part (``python flow.py --quiet show``, same interpreter and
import, no run) so it can be subtracted. Per-task subprocesses are included:
they are how Metaflow executes steps. Metaflow has no step cache
(``resume`` is not a cache), so ``cached_s`` is null.

Run with the Metaflow venv: ``bench/.venvs/metaflow/bin/python run_metaflow.py --n 10``
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

_root = tempfile.mkdtemp(prefix="bench-metaflow-")
_env = {
    "METAFLOW_HOME": os.path.join(_root, "home"),
    "METAFLOW_DATASTORE_SYSROOT_LOCAL": _root,
    "METAFLOW_DEFAULT_METADATA": "local",
    "METAFLOW_DEFAULT_DATASTORE": "local",
    "USERNAME": os.environ.get("USER", "bench"),
}
os.environ.update(_env)
os.makedirs(_env["METAFLOW_HOME"], exist_ok=True)

import metaflow  # noqa: E402
from _common import check, clock, parse_args, result_line  # noqa: E402
from metaflow import Flow, namespace  # noqa: E402


def flow_source(n: int) -> str:
    """Source of a FlowSpec with N linear steps."""
    names = ["start"] + [f"inc_{i}" for i in range(1, n - 1)] + ["end"]
    lines = [
        "from metaflow import FlowSpec, step",
        "",
        "",
        "class ChainFlow(FlowSpec):",
    ]
    for i, name in enumerate(names):
        lines += ["    @step", f"    def {name}(self):"]
        lines.append("        self.x = 0" if i == 0 else "        self.x = self.x + 1")
        if name != "end":
            lines.append(f"        self.next(self.{names[i + 1]})")
        lines.append("")
    lines += ['if __name__ == "__main__":', "    ChainFlow()", ""]
    return "\n".join(lines)


def write_flow(n: int, directory: str) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "chain_flow.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(flow_source(n))
    return path


def metaflow_cli(flow: str, *command: str) -> float:
    """Run ``python flow.py --quiet <command>`` in the flow's directory; wall seconds."""
    argv = [sys.executable, flow, "--quiet", *command]
    start = clock()
    done = subprocess.run(
        argv,
        cwd=os.path.dirname(flow),
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = clock() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    try:
        if not args.no_warmup:
            metaflow_cli(write_flow(2, os.path.join(_root, "warmup")), "run")
        flow = write_flow(args.n, os.path.join(_root, "chain"))
        startup_s = metaflow_cli(flow, "show")
        cold_s = metaflow_cli(flow, "run")

        namespace(None)
        run = Flow("ChainFlow").latest_run
        value = run.data.x
        n_steps = len(list(run.steps()))
        check(run.successful, "run not successful")
        check(n_steps == args.n, f"run has {n_steps} steps, expected {args.n}")
        check(value == args.n - 1, f"flow returned {value}, expected {args.n - 1}")
    finally:
        shutil.rmtree(_root, ignore_errors=True)
    print(
        result_line(
            "metaflow",
            metaflow.__version__,
            args.n,
            cold_s,
            None,
            warmup=not args.no_warmup,
            startup_s=round(startup_s, 6),
            includes="`python flow.py --quiet run` as a subprocess: runtime interpreter "
            "start + import (see startup_s), one subprocess per task, local datastore "
            "and metadata; no cache",
        )
    )


if __name__ == "__main__":
    main()
