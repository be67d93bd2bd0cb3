"""The local runner: steps in topological order, in parallel workers, cached by digest, recorded."""

from assay.runner.local import ExecutionResult, RunObserver, RunResult, run_dag

__all__ = ["ExecutionResult", "RunObserver", "RunResult", "run_dag"]
