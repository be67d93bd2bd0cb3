"""The model registry: models, versions and the references (``NAME@latest``) naming them."""

from assay.registry.scoring import load_scorer
from assay.registry.steps import register_model
from assay.registry.versions import (
    ALIAS_PATTERN,
    SERVING_FORM,
    ModelRef,
    check_alias,
    check_name,
    gate_results,
    known_model,
    load_model,
    parse_ref,
    reference_data,
    registration,
    resolve,
    serving_form,
)

__all__ = [
    "ALIAS_PATTERN",
    "SERVING_FORM",
    "ModelRef",
    "check_alias",
    "check_name",
    "gate_results",
    "known_model",
    "load_model",
    "load_scorer",
    "parse_ref",
    "register_model",
    "reference_data",
    "registration",
    "resolve",
    "serving_form",
]
