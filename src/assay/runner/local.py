"""Runs a traced DAG here: cache lookups, parallel workers, one transaction per step."""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assay.core import Dag, Node, use_context
from assay.errors import AssayError, DefinitionError, StepFailedError
from assay.metadata import ArtifactRecord, CachedExecution, ExecutionBundle
from assay.metadata.plan import Planned, cache_key
from assay.runner import environment
from assay.runner.context import ExecutionContext, withheld_key
from assay.runner.imports import import_path, planned_steps
from assay.runner.parallel import run_parallel
from assay.runner.reaper import reap_dead_runs
from assay.runner.records import describe, events_of, execution_record, stored_outputs
from assay.runner.results import ExecutionResult, RunObserver, RunResult
from assay.tracking import contradicted
from assay.workspace import Recorder, Workspace

__all__ = ["ExecutionResult", "RunObserver", "RunResult", "run_dag"]


def run_dag(
    ws: Recorder,
    dag: Dag,
    *,
    source: Path | None = None,
    workers: int = 1,
    use_cache: bool = True,
    observer: RunObserver | None = None,
    experiment: str = "default",
    tags: Mapping[str, str] | None = None,
    note: str | None = None,
    register: bool = True,
) -> RunResult:
    """Run every node of ``dag``, recording the run, its executions, artifacts and lineage.

    Raises:
        StepFailedError: a step raised; the run is recorded as failed.
    """
    env = environment.capture(source)
    if isinstance(ws, Workspace):  # a team server reaps its own
        reap_dead_runs(ws)
    params = {k: str(v.resolve()) if isinstance(v, Path) else v for k, v in dag.params.items()}
    record = environment.start_record(
        env,
        user=ws.user,
        pipeline=dag.pipeline,
        source=str(source or ""),
        params=params,
        experiment=experiment,
        tags=dict(tags or {}),
        note=note,
    )
    run_id = record.id
    ws.runs.insert_run(record)
    state = _RunState(ws, run_id, use_cache, observer, dag, params, register)
    if observer:
        observer.run_started(run_id, [n.name for n in dag.nodes])
    try:
        if use_cache:
            state.plan(dag)
        if workers <= 1:
            for node in dag.nodes:
                state.process(node)
        else:
            run_parallel(state.process, dag, workers)
    except StepFailedError as exc:
        state.flush()
        ws.runs.finish_run(run_id, "failed", error=exc.message, traceback=exc.traceback)
        raise
    except BaseException as exc:
        state.flush()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        ws.runs.finish_run(
            run_id, status, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )
        raise
    state.flush()
    ws.runs.finish_run(run_id, "succeeded")
    ordered = [state.results[n.name] for n in dag.nodes]
    return RunResult(run_id, dag.pipeline, "succeeded", ordered)


class _RunState:
    """Everything one run accumulates: outputs per node and values made in this process."""

    def __init__(
        self,
        ws: Recorder,
        run_id: str,
        use_cache: bool,
        observer: RunObserver | None,
        dag: Dag,
        params: Mapping[str, Any],
        register: bool = True,
    ) -> None:
        self.ws = ws
        self.run_id = run_id
        self.use_cache = use_cache
        self.register = register
        self.observer = observer
        self.outputs: dict[str, dict[str, ArtifactRecord]] = {}
        self.values: dict[tuple[str, str], Any] = {}
        self.results: dict[str, ExecutionResult] = {}
        self.pending: list[ExecutionBundle] = []
        self.planned: Planned = {}
        self.members: dict[str, list[ArtifactRecord]] = {}
        self.lock = threading.Lock()
        self.run_params = dict(params)  # the pipeline's, then those its steps log
        # How many steps still have to read each output: a decoded value is dropped once
        # the last of them has it, so a long pipeline does not hold every value it made.
        self.readers = Counter(
            (ref.node, ref.output) for node in dag.nodes for ref in node.inputs.values()
        )

    def plan(self, dag: Dag) -> None:
        """Ask the store, once, what its cache gives for the cacheable steps."""
        steps = planned_steps(self.ws.artifacts, dag)
        self.planned = self.ws.steps.plan_cache(steps, register=self.register)

    def flush(self) -> None:
        """Write the records of reused executions that are still waiting."""
        with self.lock:
            batch, self.pending = self.pending, []
        self.ws.steps.record_executions(batch)

    def process(self, node: Node) -> None:
        started = time.time()
        inputs = self._inputs(node)
        params = {k: v for k, v in node.params.items() if not isinstance(v, Path)}
        key = cache_key(node.step.fingerprint, params, {k: a.digest for k, a in inputs.items()})
        if not (
            self.use_cache and node.step.cache and self._reuse(node, key, inputs, params, started)
        ):
            if self.observer:
                self.observer.step_started(node.name)
            self._execute(node, key, inputs, params, started)
        self._release(node)

    def _release(self, node: Node) -> None:
        with self.lock:
            for ref in node.inputs.values():
                self.readers[(ref.node, ref.output)] -= 1
                if self.readers[(ref.node, ref.output)] == 0:
                    artifact = self.outputs[ref.node][ref.output]
                    self.values.pop((artifact.digest, artifact.codec), None)

    def _inputs(self, node: Node) -> dict[str, ArtifactRecord]:
        inputs: dict[str, ArtifactRecord] = {}
        for arg, ref in node.inputs.items():
            produced = self.outputs[ref.node]
            if ref.output not in produced:
                raise DefinitionError(
                    f"step {ref.node!r} has no output {ref.output!r} for step {node.name!r}"
                )
            inputs[arg] = produced[ref.output]
        for arg, value in node.params.items():
            if isinstance(value, Path):
                where = f"step {node.name!r} argument {arg!r}"
                inputs[arg], members = import_path(self.ws.artifacts, value, where, arg)
                if members:
                    self.members[inputs[arg].digest] = members
        return inputs

    def _stored(self, *groups: Iterable[ArtifactRecord]) -> list[ArtifactRecord]:
        """Artifact records to write: the given ones plus the files of any imported folder."""
        records = [a for group in groups for a in group]
        return records + [m for a in records for m in self.members.get(a.digest, ())]

    def _reuse(
        self,
        node: Node,
        key: str,
        inputs: Mapping[str, ArtifactRecord],
        params: Mapping[str, Any],
        started: float,
    ) -> bool:
        planned = self.planned.get(node.name)
        if planned is not None and planned[0] == key:  # the plan looked this key up
            cached: CachedExecution | None = planned[1]
        else:
            cached = self.ws.steps.find_cached(key)
            if cached is None and not self.register:
                cached = self.ws.steps.find_cached(withheld_key(key))
        # A cached execution may hold side outputs too (``add_output``); it needs every
        # declared one.
        if cached is None or not {o.name for o in node.step.outputs} <= set(cached.outputs):
            return False
        outputs = {a.digest for a in cached.outputs.values()}
        if self.ws.artifacts.held(outputs) != outputs:
            return False  # bytes were removed from the artifact store: compute them again
        with self.lock:
            logged = cached.logged_params
            if contradicted(self.run_params, logged):
                return False  # running the step again reports the contradiction clearly
            self.run_params.update(logged)
        execution_id = uuid.uuid4().hex
        now = time.time()
        metrics = [
            type(m)(self.run_id, m.key, m.value, m.timestamp, execution_id, m.step)
            for m in cached.metrics
        ]
        record = dataclasses.replace(
            execution_record(
                self.run_id,
                node,
                execution_id,
                key,
                params,
                started,
                "cached",
                now,
                cached.execution_id,
            ),
            logged_params=dict(cached.logged_params),
        )
        # Reuse records wait and go to the database together (with the next executed step,
        # or at the end of the run): a cache hit then costs one lookup, not one transaction.
        with self.lock:
            self.pending.append(
                (
                    record,
                    self._stored(inputs.values()),
                    events_of(execution_id, inputs, cached.outputs),
                    metrics,
                )
            )
        self.outputs[node.name] = dict(cached.outputs)
        self._finish(
            node, execution_id, "cached", started, now, cached.outputs, cached.execution_id
        )
        return True

    def _execute(
        self,
        node: Node,
        key: str,
        inputs: Mapping[str, ArtifactRecord],
        params: Mapping[str, Any],
        started: float,
    ) -> None:
        execution_id = uuid.uuid4().hex
        ctx = ExecutionContext(
            self.ws,
            run_id=self.run_id,
            execution_id=execution_id,
            step_name=node.name,
            inputs=inputs,
            run_params=self.run_params,
            lock=self.lock,
            register=self.register,
        )
        try:
            kwargs = {arg: self._load(a) for arg, a in inputs.items() if arg in node.inputs}
            kwargs.update(node.params)
            with use_context(ctx):
                result = node.step.func(**kwargs)
            produced = stored_outputs(
                self.ws.artifacts, node, execution_id, result, ctx.side_outputs
            )
        except BaseException as exc:  # Ctrl-C too: the run then shows the step it stopped in
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            self._record_failure(node, execution_id, key, inputs, params, started, exc, ctx, status)
            if isinstance(exc, Exception):
                raise self._failure(node, exc) from exc
            raise
        ended = time.time()
        if ctx.withheld:
            key = withheld_key(key)
        record = execution_record(
            self.run_id,
            node,
            execution_id,
            key,
            params,
            started,
            "succeeded",
            ended,
            None,
            ctx.params,
        )
        bundle = (
            record,
            self._stored(inputs.values(), produced.values()),
            events_of(execution_id, inputs, produced),
            ctx.metrics,
        )
        # The reuses waiting go with it, in one transaction (one request to a server).
        with self.lock:
            batch, self.pending = self.pending, []
        try:
            self.ws.steps.record_executions([*batch, bundle], ctx.registrations, ctx.verdicts)
        except BaseException:
            with self.lock:  # written at the run's end, if they can be
                self.pending[:0] = batch
            raise
        self.outputs[node.name] = produced
        self._finish(node, execution_id, "succeeded", started, ended, produced)

    def _load(self, artifact: ArtifactRecord) -> Any:
        # Every step gets its inputs decoded from the stored bytes, never the object the
        # step before returned: a run then behaves the same whether its upstream steps ran
        # or were reused, and every artifact is proven loadable as soon as it is used.
        key = (artifact.digest, artifact.codec)
        with self.lock:
            if key not in self.values:
                self.values[key] = self.ws.artifacts.get(artifact.digest, artifact.codec)
            return self.values[key]

    def _record_failure(
        self,
        node: Node,
        execution_id: str,
        key: str,
        inputs: Mapping[str, ArtifactRecord],
        params: Mapping[str, Any],
        started: float,
        exc: BaseException,
        ctx: ExecutionContext,
        status: str = "failed",
    ) -> None:
        self.flush()
        record = execution_record(
            self.run_id,
            node,
            execution_id,
            key,
            params,
            started,
            status,
            time.time(),
            logged_params=ctx.params,
        )
        failed = dataclasses.replace(
            record, error=describe(exc), traceback="".join(traceback.format_exception(exc))
        )
        self.ws.steps.record_execution(
            failed,
            artifacts=self._stored(inputs.values()),
            events=events_of(execution_id, inputs, {}),
            metrics=ctx.metrics,  # what the step logged before it failed is kept
        )
        if self.observer:
            self.observer.step_finished(node.name, status, time.time() - started)

    def _failure(self, node: Node, exc: Exception) -> StepFailedError:
        text = "".join(traceback.format_exception(exc))
        if isinstance(exc, AssayError):
            message, hint = exc.message, exc.hint
        else:
            message = describe(exc)
            hint = f"see the traceback with `assay runs show {self.run_id[:12]} --traceback`"
        return StepFailedError(
            f"step {node.name!r} failed: {message}",
            step=node.name,
            run_id=self.run_id,
            hint=hint,
            traceback=text,
        )

    def _finish(
        self,
        node: Node,
        execution_id: str,
        status: str,
        started: float,
        ended: float,
        outputs: Mapping[str, ArtifactRecord],
        cached_from: str | None = None,
    ) -> None:
        self.results[node.name] = ExecutionResult(
            node.name,
            execution_id,
            status,
            ended - started,
            {k: a.digest for k, a in outputs.items()},
            cached_from,
        )
        if self.observer:
            self.observer.step_finished(node.name, status, ended - started)
