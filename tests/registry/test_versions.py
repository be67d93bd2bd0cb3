from __future__ import annotations

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

import assay
from assay import pipeline, register_model, step
from assay.errors import ModelNotFoundError, RegistryError
from assay.registry import ModelRef, load_model, parse_ref, resolve
from assay.workspace import Workspace


@step(outputs={"model": "model"})
def fit_dummy(strategy: str = "most_frequent") -> DummyClassifier:
    return DummyClassifier(strategy=strategy).fit(pd.DataFrame({"x": [0, 1, 2]}), ["a", "b", "b"])


@pipeline
def dummy(strategy: str = "most_frequent", name: str = "dummy") -> None:
    register_model(fit_dummy(strategy), name=name, metrics={"accuracy": 0.5})


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("m", ModelRef("m", None)),
        ("m@latest", ModelRef("m", None)),
        ("m@3", ModelRef("m", 3)),
        (" sesame@12 ", ModelRef("sesame", 12)),
    ],
)
def test_parse_ref(ref: str, parsed: ModelRef) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize(
    "ref", ["", "@1", "m@", "m@0", "m@-1", "m@X!", "m@latest!", "bad name@1", "m@1@2"]
)
def test_malformed_refs(ref: str) -> None:
    with pytest.raises((ModelNotFoundError, RegistryError)):
        parse_ref(ref)


def test_pipeline_registers_versions_that_resolve(workspace: Workspace) -> None:
    assay.run(dummy, workspace=workspace)
    assay.run(dummy, {"strategy": "prior"}, workspace=workspace)
    assert resolve(workspace, "dummy@latest").version == 2
    v1 = resolve(workspace, "dummy@1")
    assert v1.info["metrics"] == {"accuracy": 0.5} and v1.info["card"] == {}
    # A dummy classifier has no compiled form; the version says why.
    assert v1.info["serving"]["form"] == "model"
    assert "DummyClassifier is not a Pipeline" in v1.info["serving"]["reason"]
    assert v1.created_by == "alice" and v1.codec == "skops"
    record, model = load_model(workspace, "dummy@1")
    assert record == v1
    assert list(model.predict(pd.DataFrame({"x": [5]}))) == ["b"]


def test_rerunning_the_same_model_adds_no_version(workspace: Workspace) -> None:
    assay.run(dummy, workspace=workspace)
    assay.run(dummy, workspace=workspace, cache=False)
    assert [v.version for v in workspace.metadata.model_versions("dummy")] == [1]


def test_unknown_models_and_versions(workspace: Workspace) -> None:
    with pytest.raises(ModelNotFoundError, match="unknown model 'dummy'.*none yet"):
        resolve(workspace, "dummy@latest")
    assay.run(dummy, workspace=workspace)
    with pytest.raises(ModelNotFoundError, match="has no version 4.*dummy@1"):
        resolve(workspace, "dummy@4")


def test_invalid_model_name_is_refused_before_anything_runs(workspace: Workspace) -> None:
    with pytest.raises(
        assay.AssayError, match="argument 'name': expected str.*should match pattern"
    ):
        assay.run(dummy, {"name": "no spaces allowed"}, workspace=workspace)
    assert workspace.metadata.list_runs() == []
