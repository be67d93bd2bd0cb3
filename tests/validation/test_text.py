from __future__ import annotations

import pandas as pd
import pytest

from assay.errors import DataError
from assay.validation import validate_labelled_text

LABELS = ("neg", "pos")


def frame(rows: list[tuple[str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["text", "label"])


def checks(report: object) -> dict[str, str]:
    return {i.check: i.severity for i in report.issues}  # type: ignore[attr-defined]


def test_clean_data_passes() -> None:
    data = frame([(f"t{i}", "neg" if i % 2 else "pos") for i in range(20)])
    clean, report = validate_labelled_text(
        data, text="text", label="label", labels=LABELS, min_rows_per_class=5
    )
    assert report.passed and len(clean) == 20
    assert report.label_counts == {"neg": 10, "pos": 10}
    assert checks(report) == {"class_balance": "info"}


def test_empty_duplicate_and_conflicting_rows_are_dropped_with_warnings() -> None:
    rows = [(f"t{i}", "neg" if i % 2 else "pos") for i in range(20)]
    rows += [("", "neg"), (None, "pos"), ("t1", "neg"), ("t2", "neg")]
    clean, report = validate_labelled_text(
        frame(rows), text="text", label="label", labels=LABELS, min_rows_per_class=5
    )
    assert checks(report) == {
        "empty_text": "warning",
        "duplicates": "warning",
        "conflicting_labels": "warning",
        "class_balance": "info",
    }
    assert "t2" not in set(clean.text)  # t2 had both labels: every copy goes
    assert len(clean) == 19 and report.rows_in == 24 and report.rows_out == 19
    report.raise_for_errors()


def test_unknown_labels_and_small_classes_are_errors() -> None:
    rows = [(f"t{i}", "pos") for i in range(10)] + [("x", "neg"), ("y", "meh")]
    _, report = validate_labelled_text(
        frame(rows), text="text", label="label", labels=LABELS, min_rows_per_class=3
    )
    assert not report.passed
    assert checks(report)["label_set"] == "error" and checks(report)["class_size"] == "error"
    with pytest.raises(DataError, match=r"labels outside.*'meh'.*fewer than 3 rows: neg \(1\)"):
        report.raise_for_errors()
    assert report.to_dict()["passed"] is False


def test_extreme_imbalance_is_an_error() -> None:
    rows = [(f"p{i}", "pos") for i in range(100)] + [(f"n{i}", "neg") for i in range(5)]
    _, report = validate_labelled_text(
        frame(rows),
        text="text",
        label="label",
        labels=LABELS,
        min_rows_per_class=5,
        max_imbalance=10,
    )
    assert checks(report)["class_balance"] == "error"


def test_missing_column_names_the_columns() -> None:
    with pytest.raises(DataError, match="no column 'label'.*columns are: text"):
        validate_labelled_text(
            pd.DataFrame({"text": ["a"]}), text="text", label="label", labels=LABELS
        )
