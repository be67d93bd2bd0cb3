from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import assay
from assay.errors import DataError, RegistryError, SignatureError
from assay.registry import load_model
from assay.serving import predict_frame, score_csv
from assay.workspace import Workspace
from tests.tabularmodel import COLUMNS, houses, houses_model
from tests.textmodel import tiny


def test_probabilities_per_class_and_argmax_prediction() -> None:
    x = pd.DataFrame({"v": [0.0, 1.0, 2.0, 3.0]})
    model = LogisticRegression().fit(x, ["lo", "lo", "hi", "hi"])
    out = predict_frame(model, x)
    assert list(out.columns) == ["prediction", "proba_hi", "proba_lo"]
    np.testing.assert_allclose(out[["proba_hi", "proba_lo"]].sum(axis=1), 1.0)
    assert out.prediction.tolist() == model.predict(x).tolist()


def test_models_without_probabilities_still_predict() -> None:
    x = pd.DataFrame({"v": [0.0, 1.0]})
    out = predict_frame(LinearRegression().fit(x, [0.0, 2.0]), x)
    assert list(out.columns) == ["prediction"]


def test_objects_that_cannot_predict_are_refused() -> None:
    with pytest.raises(RegistryError, match="has no predict method"):
        predict_frame({"not": "a model"}, [])


def test_a_regressor_fitted_on_one_column_gives_one_prediction_per_row() -> None:
    x = pd.DataFrame({"v": [0.0, 1.0, 2.0]})
    out = predict_frame(LinearRegression().fit(x, pd.DataFrame({"y": [0.0, 2.0, 4.0]})), x)
    assert out.prediction.tolist() == pytest.approx([0.0, 2.0, 4.0])


@pytest.mark.parametrize("kind", ["plain", "mixed", "ridge"])
def test_a_tabular_csv_is_scored_from_the_signature_columns(
    workspace: Workspace, tmp_path: Path, kind: str
) -> None:
    assay.run(houses_model, {"kind": kind}, workspace=workspace)
    frame = houses(8, seed=9)
    frame.to_csv(tmp_path / "in.csv", index=False)
    record, rows = score_csv(workspace, "houses", tmp_path / "in.csv", None, tmp_path / "o.csv")
    assert (record.version, rows) == (1, 8)
    out = pd.read_csv(tmp_path / "o.csv")
    added = ["prediction"] if kind == "ridge" else ["prediction", "proba_cheap", "proba_dear"]
    assert list(out.columns) == [*frame.columns, *added]  # every input column is kept
    assert out.id.tolist() == frame.id.tolist()
    _, model = load_model(workspace, "houses@1")
    expected = model.predict(frame[COLUMNS[kind]])
    if kind == "ridge":
        np.testing.assert_allclose(out.prediction, expected)
    else:
        assert out.prediction.tolist() == expected.tolist()


def test_a_csv_for_a_tabular_model_is_checked_against_its_signature(
    workspace: Workspace, tmp_path: Path
) -> None:
    assay.run(houses_model, workspace=workspace)
    source = tmp_path / "in.csv"
    source.write_text("id,rooms,area\na,2,big\n")
    with pytest.raises(SignatureError, match=r"column 'area' of .*in.csv holds 'big' \(CSV line 2"):
        score_csv(workspace, "houses", source, None, tmp_path / "o.csv")
    source.write_text("id,rooms\na,2\n")
    with pytest.raises(SignatureError, match="has no column 'area': houses@1 takes rooms"):
        score_csv(workspace, "houses", source, None, tmp_path / "o.csv")
    with pytest.raises(DataError, match=r"houses@1 takes 2 columns \(rooms, area\), not one"):
        score_csv(workspace, "houses", source, "rooms", tmp_path / "o.csv")
    source.write_text("rooms,area,prediction\n2,40,x\n")
    with pytest.raises(DataError, match="already has a column 'prediction'"):
        score_csv(workspace, "houses", source, None, tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()


def test_a_text_model_reads_its_text_column_by_default(
    workspace: Workspace, tmp_path: Path
) -> None:
    assay.run(tiny, workspace=workspace)
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,profit rose strongly\n")
    score_csv(workspace, "tiny", source, None, tmp_path / "o.csv")
    assert pd.read_csv(tmp_path / "o.csv").prediction.tolist() == ["up"]
    source.write_text("id,sentence\n1,profit rose strongly\n")
    with pytest.raises(DataError, match="tiny@1 is a text model; name its column with --column"):
        score_csv(workspace, "tiny", source, None, tmp_path / "o.csv")
