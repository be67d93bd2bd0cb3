from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

import assay
from assay import pipeline, register_model, step
from assay.errors import ModelNotFoundError, RegistryError
from assay.registry import ModelRef, check_alias, load_model, parse_ref, resolve
from assay.workspace import Workspace
from tests.governed import toy, write_project


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
        ("m@newest", ModelRef("m", None, newest=True)),
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


@pytest.mark.parametrize("ref", ["m@2147483648", "m@" + "9" * 30, "m@\u0661"])
def test_a_version_no_store_can_hold_is_not_found_before_the_database_sees_it(
    ref: str, workspace: Workspace
) -> None:
    with pytest.raises(ModelNotFoundError):
        parse_ref(ref)
    with pytest.raises(ModelNotFoundError):
        resolve(workspace, ref)


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


def test_latest_and_newest_are_reserved_words_not_aliases() -> None:
    assert str(parse_ref("m@newest")) == "m@newest"
    for word in ("latest", "newest"):
        with pytest.raises(RegistryError, match=f"invalid alias '{word}'"):
            check_alias(word)


def train_toy(ws: Workspace, folder: Path, **params: Any) -> None:
    policy, card = write_project(folder)
    assay.run(toy, {"policy": policy, "card": card, **params}, workspace=ws)


def test_latest_skips_a_version_that_failed_its_gates(workspace: Workspace, tmp_path: Path) -> None:
    train_toy(workspace, tmp_path / "toy")  # toy@1 passes its gates
    train_toy(workspace, tmp_path / "toy", quality=0.6, weight=2.0)  # toy@2 fails min macro_f1
    assert resolve(workspace, "toy@latest").version == 1
    assert resolve(workspace, "toy").version == 1
    assert resolve(workspace, "toy@newest").version == 2  # asked for explicitly
    assert resolve(workspace, "toy@2").version == 2
    train_toy(workspace, tmp_path / "toy", quality=0.9, weight=3.0)  # toy@3 passes again
    assert resolve(workspace, "toy@latest").version == 3


def test_latest_names_the_newest_version_and_why_when_none_qualifies(
    workspace: Workspace, tmp_path: Path
) -> None:
    train_toy(workspace, tmp_path / "toy", quality=0.5)
    with pytest.raises(
        ModelNotFoundError,
        match=r"no version of 'toy' qualifies as toy@latest: the newest, toy@1, failed",
    ) as raised:
        resolve(workspace, "toy@latest")
    assert "toy@newest" in (raised.value.hint or "")
    assert resolve(workspace, "toy@newest").version == 1


def test_an_unknown_model_suggests_the_closest_name(workspace: Workspace) -> None:
    assay.run(dummy, {"name": "sesame"}, workspace=workspace)
    with pytest.raises(ModelNotFoundError, match="unknown model 'sesam'.*did you mean 'sesame'"):
        resolve(workspace, "sesam@latest")
