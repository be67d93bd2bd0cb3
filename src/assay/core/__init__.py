"""Pure domain: steps, pipelines traced into DAGs, digests and the step context; no I/O."""

from assay.core.context import StepContext, current_context, use_context
from assay.core.digest import (
    canonical_json,
    dumps_json,
    loads_json,
    restored,
    sha256_hex,
    spelled_out,
)
from assay.core.pipeline import Dag, Node, Pipeline, pipeline
from assay.core.step import InputRef, OutputSpec, ParamSpec, Step, step

__all__ = [
    "Dag",
    "InputRef",
    "Node",
    "OutputSpec",
    "ParamSpec",
    "Pipeline",
    "Step",
    "StepContext",
    "canonical_json",
    "current_context",
    "dumps_json",
    "loads_json",
    "pipeline",
    "restored",
    "sha256_hex",
    "spelled_out",
    "step",
    "use_context",
]
