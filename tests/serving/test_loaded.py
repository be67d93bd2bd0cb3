"""What a server loads: the compiled form when the version has one, else the model itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import assay
import assay.registry.steps as registry_steps
from assay.errors import CompileError
from assay.registry import load_model, resolve, serving_form
from assay.serving.loaded import load_version
from assay.workspace import Workspace
from tests.textmodel import tiny

TEXTS = ["profit rose strongly 3", "loss widened sharply 7", "unseen words only", ""]


def test_a_registered_linear_model_is_served_from_its_compiled_form(served: Workspace) -> None:
    record = resolve(served, "tiny@1")
    assert record.info["serving"] == {
        "form": "compiled",
        "format": "assay.linear-text/1",
        "output": "serving_form",
    }
    form = serving_form(served, record)
    assert form is not None and form.codec == "arrays" and form.kind == "serving_form"
    loaded = load_version(served, record)
    assert loaded.form == "compiled" and loaded.platform == "assay-linear-text"
    _, model = load_model(served, "tiny@1")
    labels, proba = loaded.predict(TEXTS)
    np.testing.assert_allclose(proba, model.predict_proba(TEXTS), atol=1e-12)
    assert labels[:2] == ["up", "down"]


def test_the_compiled_form_loads_without_scikit_learn(served: Workspace, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from assay.registry import resolve
        from assay.serving.loaded import load_version
        from assay.settings import Settings
        from assay.workspace import open_workspace

        ws = open_workspace(Settings.for_project({str(tmp_path)!r}, user="alice"))
        loaded = load_version(ws, resolve(ws, "tiny@1"))
        print(loaded.predict(["profit rose strongly"])[0][0])
        print(sorted(m for m in ("sklearn", "scipy", "pandas", "skops") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:2] == ["up", "[]"]


def test_a_version_without_a_compiled_form_is_compiled_when_loaded(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model: object) -> None:
        raise CompileError("not now")

    monkeypatch.setattr(registry_steps, "compile_model", refuse)
    assay.run(tiny, workspace=workspace)
    record = resolve(workspace, "tiny@1")
    assert record.info["serving"] == {"form": "model", "reason": "not now"}
    assert serving_form(workspace, record) is None
    monkeypatch.undo()
    loaded = load_version(workspace, record)
    assert loaded.form == "compiled"  # checked against the model as it was loaded
    assert loaded.predict(TEXTS)[0][:2] == ["up", "down"]


def test_a_model_that_cannot_compile_is_served_as_it_is(workspace: Workspace) -> None:
    from tests.registry.test_versions import dummy

    assay.run(dummy, workspace=workspace)
    loaded = load_version(workspace, resolve(workspace, "dummy@1"))
    assert loaded.form == "model" and loaded.platform == "sklearn"
    assert len(loaded.predict(["a", "b"])[1]) == 2


def test_a_damaged_compiled_form_is_refused_by_its_digest(
    served: Workspace, tmp_path: Path
) -> None:
    from assay.errors import IntegrityError

    record = resolve(served, "tiny@1")
    form = serving_form(served, record)
    assert form is not None
    [blob] = tmp_path.rglob(form.digest)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        load_version(served, record)
