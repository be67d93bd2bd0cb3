"""reference_sample: the data a version is registered with for monitoring."""

from __future__ import annotations

import pandas as pd
import pytest

import assay
from assay import pipeline, register_model, step
from assay.errors import StepFailedError
from assay.monitoring import reference_sample
from assay.registry import reference_data, resolve
from assay.workspace import Workspace
from tests.textmodel import fit, sentences


@step
def held_out(n: int = 150) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "text": [f"profit rose {i}" for i in range(n)],
            "amount": range(n),
            "label": ["up"] * n,
        }
    )
    return frame.rename(columns={"text": "sentence"})


@pipeline
def monitored(max_rows: int = 100) -> None:
    reference = reference_sample(
        held_out(), text_column="sentence", label_column="label", max_rows=max_rows
    )
    register_model(fit(sentences()), name="tiny", reference=reference)


def test_a_version_is_registered_with_its_reference_data(workspace: Workspace) -> None:
    assay.run(monitored, workspace=workspace)
    record = resolve(workspace, "tiny@1")
    assert record.info["reference"] == {"rows": 100, "columns": ["text", "label"]}
    event = reference_data(workspace, record)
    assert event is not None and event.kind == "reference" and event.direction == "input"
    frame = workspace.artifacts.get(event.digest, event.codec)
    assert list(frame.columns) == ["text", "label"] and len(frame) == 100
    assert frame["text"].str.startswith("profit rose").all()


def test_a_version_without_reference_data_has_none(workspace: Workspace) -> None:
    from tests.textmodel import tiny

    assay.run(tiny, workspace=workspace)
    record = resolve(workspace, "tiny@1")
    assert reference_data(workspace, record) is None and "reference" not in record.info


def test_tabular_reference_keeps_the_inputs_and_the_label() -> None:
    data = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "y": [0, 1, 0]})
    sample = reference_sample(data, label_column="y")  # outside a pipeline: the function
    assert list(sample.columns) == ["a", "b", "label"] and len(sample) == 3


def test_a_missing_column_is_named(workspace: Workspace) -> None:
    @pipeline
    def wrong() -> None:
        reference_sample(held_out(), text_column="body")

    with pytest.raises(StepFailedError, match="reference data has no column 'body'"):
        assay.run(wrong, workspace=workspace)
