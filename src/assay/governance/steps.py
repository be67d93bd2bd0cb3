"""Built-in steps: build a model card, and check a registered version against the policy."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from assay.core import current_context, step
from assay.errors import DefinitionError, PolicyError
from assay.governance.cards import DataSummary, ModelCard, SliceMetrics, load_card_file
from assay.governance.gates import card_fields, evaluate_gates
from assay.governance.policy import load_policy
from assay.metadata import ArtifactRecord, GateVerdictRecord, ModelVersionRecord
from assay.metadata.versions import ModelRepository
from assay.registry import ModelRef

__all__ = ["GovernanceContext", "check_gates", "model_card"]


@runtime_checkable
class GovernanceContext(Protocol):
    """What governance steps need of the runner: the registry, who runs them, and the
    step's own record."""

    @property
    def models(self) -> ModelRepository: ...

    @property
    def user(self) -> str: ...

    @property
    def run_id(self) -> str: ...

    @property
    def execution_id(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, ArtifactRecord]: ...

    @property
    def registering(self) -> bool: ...

    def add_verdict(self, verdict: GateVerdictRecord) -> None: ...


def _context(step_name: str) -> GovernanceContext:
    ctx = current_context()
    if not isinstance(ctx, GovernanceContext):
        raise DefinitionError(
            f"{step_name} needs the store", hint="run it as a step of a pipeline with assay.run"
        )
    return ctx


@step(version="1", outputs={"card": "model_card"})
def model_card(
    source: Path,
    evaluation: dict[str, Any],
    training_data: Any = None,
    evaluation_data: Any = None,
    label_column: str = "label",
    model: str = "",
) -> dict[str, Any]:
    """A model card: the team's file ``source`` (intended use, owners, limitations, ...)
    completed with the evaluation's metrics overall and per class, and a summary of the
    training and evaluation data (artifact digest, rows, label counts)."""
    ctx = _context("model_card")
    team = load_card_file(source)
    per_class = evaluation.get("per_class") or {}
    card = ModelCard(
        **team,
        training_data=_summary(ctx, "training_data", training_data, label_column),
        evaluation_data=_summary(ctx, "evaluation_data", evaluation_data, label_column),
        metrics={
            k: float(v)
            for k, v in evaluation.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "n"
        },
        slices=[
            SliceMetrics(
                slice=f"{label_column}={label}",
                metrics={k: float(v) for k, v in values.items()},
            )
            for label, values in per_class.items()
        ],
    )
    if model:
        card = card.model_copy(update={"model": model})
    return card.model_dump(mode="json")


def _summary(ctx: GovernanceContext, name: str, frame: Any, label_column: str) -> DataSummary:
    if frame is None:
        return DataSummary()
    artifact = ctx.inputs.get(name)
    summary: dict[str, Any] = {"digest": artifact.digest if artifact else None}
    if hasattr(frame, "__len__"):
        summary["rows"] = len(frame)
    columns = getattr(frame, "columns", ())
    if label_column in columns:
        counts = frame[label_column].value_counts().sort_index()
        summary["labels"] = {str(k): int(v) for k, v in counts.items()}
    return DataSummary(**summary)


@step(version="1", outputs={"verdict": "gate_verdict"}, cache=False)
def check_gates(
    registration: dict[str, Any],
    policy: Path,
    validation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the version ``registration`` names against the gates of the ``policy`` file.

    The verdict, with each gate's evidence, is recorded with this step; a version that
    failed cannot move to ``staging`` or ``production``. The step runs on every run (never
    from the cache), since the production version it compares with may have changed. In a
    run that registers nothing (a sweep's trial) it checks the policy file only.
    """
    ctx = _context("check_gates")
    models = ctx.models
    rules, plain = load_policy(policy)
    unknown = sorted(set(rules.gates.model_card_fields) - card_fields())
    if unknown:
        raise PolicyError(
            f"{policy}: field gates.model_card_fields: {unknown[0]!r} is not a model-card field",
            hint=f"fields: {', '.join(sorted(card_fields()))}",
        )
    if not ctx.registering:
        # A sweep's trial: no version was written, so there is nothing to hold a verdict.
        return {"model": None, "passed": None, "failed": [], "skipped": "no version registered"}
    version = _registered(models, registration)
    if rules.model is not None and rules.model != version.name:
        raise PolicyError(
            f"{policy}: field model: the policy is for {rules.model!r}, not {version.name!r}",
            hint="give the gate step the policy of this model",
        )
    results = evaluate_gates(
        rules.gates,
        metrics=version.info.get("metrics") or {},
        card=version.info.get("card") or {},
        validation=validation,
        baseline=_baseline(models, version, rules.gates.no_regression.against)
        if rules.gates.no_regression
        else None,
    )
    passed = all(r.passed for r in results)
    policy_artifact = ctx.inputs.get("policy")
    ctx.add_verdict(
        GateVerdictRecord(
            name=version.name,
            version=version.version,
            passed=passed,
            policy_digest=policy_artifact.digest if policy_artifact else "",
            policy=plain,
            results=[r.to_dict() for r in results],
            created_at=time.time(),
            created_by=ctx.user,
            run_id=ctx.run_id,
            execution_id=ctx.execution_id,
        )
    )
    return {
        "model": str(ModelRef(version.name, version.version)),
        "passed": passed,
        "failed": [r.gate for r in results if not r.passed],
    }


def _registered(models: ModelRepository, registration: Mapping[str, Any]) -> ModelVersionRecord:
    name, digest = registration.get("name"), registration.get("digest")
    for version in models.versions_of_digests([str(digest)]):
        if version.name == name:
            return version
    raise DefinitionError(
        f"check_gates was given {dict(registration)!r}, which names no registered version",
        hint="pass the output of register_model",
    )


def _baseline(
    models: ModelRepository, version: ModelVersionRecord, alias: str
) -> tuple[str, Mapping[str, Any]] | None:
    number = models.alias_version(version.name, alias)
    if number is None:
        return None
    base = models.model_version(version.name, number)
    if base is None:
        return None
    return f"{version.name}@{alias} (version {number})", base.info.get("metrics") or {}
