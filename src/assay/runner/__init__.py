"""The local runner: steps in topological order, in parallel workers, cached by digest, recorded."""

from assay.runner.local import run_dag
from assay.runner.reaper import reap_dead_runs
from assay.runner.reproduce import reproduce
from assay.runner.results import ExecutionResult, RunObserver, RunResult

__all__ = [
    "ExecutionResult",
    "RunObserver",
    "RunResult",
    "reap_dead_runs",
    "reproduce",
    "run_dag",
]
