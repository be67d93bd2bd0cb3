"""The model registry: models, versions and the references (``NAME@latest``) naming them."""

from assay.registry.inputs import (
    columns_from_json,
    columns_from_rows,
    table_from_columns,
    table_from_csv,
    table_from_rows,
)
from assay.registry.listing import ListedVersion, list_versions
from assay.registry.scoring import load_scorer
from assay.registry.signature import (
    COLUMN_TYPES,
    TEXT_INPUT,
    InputColumn,
    Signature,
    infer_signature,
    recorded_signature,
    version_signature,
)
from assay.registry.steps import register_model
from assay.registry.versions import (
    ALIAS_PATTERN,
    MAX_VERSION,
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
    "MAX_VERSION",
    "COLUMN_TYPES",
    "SERVING_FORM",
    "TEXT_INPUT",
    "InputColumn",
    "ListedVersion",
    "ModelRef",
    "Signature",
    "check_alias",
    "check_name",
    "gate_results",
    "infer_signature",
    "known_model",
    "list_versions",
    "load_model",
    "load_scorer",
    "parse_ref",
    "recorded_signature",
    "reference_data",
    "register_model",
    "registration",
    "resolve",
    "serving_form",
    "columns_from_json",
    "columns_from_rows",
    "table_from_columns",
    "table_from_csv",
    "table_from_rows",
    "version_signature",
]
