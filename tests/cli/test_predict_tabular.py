"""`assay predict` with models of a table (issue 14, item 12): any scikit-learn model, not
only single-text classifiers. The model reads the columns its signature names; the others
are kept in the output; mistakes are one line naming the column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error

TOY = """
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from assay import pipeline, register_model, step


@step
def load() -> pd.DataFrame:
    x = [float(i) for i in range(40)]
    return pd.DataFrame(
        {
            "x": x,
            "y": [v * 2 + 1 for v in x],
            "colour": ["red", "blue"] * 20,
            "label": ["lo"] * 20 + ["hi"] * 20,
        }
    )


@step(outputs={"model": "model"})
def fit(frame: pd.DataFrame, kind: str = "numbers") -> Pipeline:
    if kind == "numbers":
        model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
        return model.fit(frame[["x", "y"]], frame.label)
    if kind == "one":
        return Pipeline([("clf", LogisticRegression())]).fit(frame[["x"]], frame.label)
    columns = ColumnTransformer(
        [("numbers", StandardScaler(), ["x"]), ("colour", OneHotEncoder(), ["colour"])]
    )
    if kind == "ridge":
        return Pipeline([("columns", columns), ("reg", Ridge())]).fit(frame, frame.y)
    return Pipeline([("columns", columns), ("clf", LogisticRegression())]).fit(frame, frame.label)


@pipeline
def toy(kind: str = "numbers") -> None:
    register_model(fit(load(), kind), name="toy")
"""


@pytest.fixture
def toy(cli: Invoke, project: Path) -> Invoke:
    (project / "toy.py").write_text(TOY)
    return cli


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_classifier_over_numeric_columns_needs_no_column(toy: Invoke, project: Path) -> None:
    assert toy("run", "toy.py").code == 0
    (project / "data.csv").write_text("id,x,y,note\n1,1.0,3,low\n2,38,77,high\n")
    done = toy("predict", "toy@latest", "--input", "data.csv", "--output", "out.csv")
    assert done.code == 0, done.err
    assert "scored 2 rows with toy@1 -> out.csv" in done.out
    rows = _rows(project / "out.csv")
    assert list(rows[0]) == ["id", "x", "y", "note", "prediction", "proba_hi", "proba_lo"]
    assert [(r["id"], r["note"], r["prediction"]) for r in rows] == [
        ("1", "low", "lo"),
        ("2", "high", "hi"),
    ]
    assert rows[0]["x"] == "1.0" and rows[0]["y"] == "3"  # passed through as they were
    assert float(rows[0]["proba_hi"]) + float(rows[0]["proba_lo"]) == pytest.approx(1.0)


def test_the_command_of_the_issue_works_for_a_model_of_one_column(
    toy: Invoke, project: Path
) -> None:
    assert toy("run", "toy.py", "--param", "kind=one").code == 0
    (project / "data.csv").write_text("x\n1\n39\n")
    done = toy("predict", "toy@latest", "--input", "data.csv", "--column", "x", "-o", "o.csv")
    assert done.code == 0, done.err
    assert [r["prediction"] for r in _rows(project / "o.csv")] == ["lo", "hi"]


def test_a_regressor_gives_one_column_of_numbers(toy: Invoke, project: Path) -> None:
    assert toy("run", "toy.py", "--param", "kind=ridge").code == 0
    (project / "data.csv").write_text("colour,x,extra\nred,2,a\nblue,30,b\n")
    done = toy("predict", "toy", "--input", "data.csv", "--output", "out.csv")
    assert done.code == 0, done.err
    rows = _rows(project / "out.csv")
    assert list(rows[0]) == ["colour", "x", "extra", "prediction"]
    assert float(rows[0]["prediction"]) == pytest.approx(5.0, abs=1.0)
    assert float(rows[1]["prediction"]) == pytest.approx(61.0, abs=1.0)


def test_a_categorical_column_through_a_column_transformer(toy: Invoke, project: Path) -> None:
    assert toy("run", "toy.py", "--param", "kind=mixed").code == 0
    shown = toy("models", "show", "toy@1")
    assert "tabular classification: x (float64), colour (category) -> hi, lo" in shown.out
    (project / "data.csv").write_text("x,colour\n1,red\n39,blue\n")
    done = toy("predict", "toy", "--input", "data.csv", "--output", "out.csv")
    assert done.code == 0, done.err
    assert [r["prediction"] for r in _rows(project / "out.csv")] == ["lo", "hi"]
    (project / "data.csv").write_text("x,colour\n1,green\n")
    assert_clean_error(
        toy("predict", "toy", "--input", "data.csv", "--output", "out.csv"),
        1,
        "the model cannot score these inputs: Found unknown categories ['green']",
    )


def test_models_show_gives_the_signature(toy: Invoke) -> None:
    assert toy("run", "toy.py").code == 0
    assert toy("run", "text").code == 0
    shown = toy("models", "show", "toy@1")
    assert "signature" in shown.out
    assert "tabular classification: x (float64), y (float64) -> hi, lo" in shown.out
    assert "text classification: text (string) -> down, up" in toy("models", "show", "tiny").out
    data = json.loads(toy("models", "show", "toy@1", "--json").out)
    assert data["version"]["info"]["signature"]["inputs"] == [
        {"name": "x", "type": "float64"},
        {"name": "y", "type": "float64"},
    ]


@pytest.mark.parametrize(
    ("csv_text", "args", "needles"),
    [
        ("id,x\n1,2\n", (), ("data.csv has no column 'y': toy@1 takes x (float64), y (float64)",)),
        (
            "x,y\n1,2\nthree,4\n",
            (),
            ("column 'x' of data.csv holds 'three' (CSV line 3), not a number",),
        ),
        (
            "x,y\n1,2\n",
            ("--column", "x"),
            ("toy@1 takes 2 columns (x, y), not one", "leave out --column"),
        ),
        ("x,y,prediction\n1,2,a\n", (), ("data.csv already has a column 'prediction'",)),
    ],
)
def test_mistakes_are_one_line(
    toy: Invoke, project: Path, csv_text: str, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    assert toy("run", "toy.py").code == 0
    (project / "data.csv").write_text(csv_text)
    result = toy("predict", "toy", "--input", "data.csv", *args, "--output", "out.csv")
    assert_clean_error(result, 1, *needles)
    assert result.err.count("\n") == 1
    assert not (project / "out.csv").exists()
