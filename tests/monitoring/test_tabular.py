"""Monitoring a tabular model: its signature's columns and its predictions are tested
against its reference data, from prediction-log rows of ``{column: value}``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

import assay
from assay.errors import DataError
from assay.metadata import PredictionRecord
from assay.monitoring.check import Window, check_drift, check_performance
from assay.workspace import Workspace
from tests.tabularmodel import COLUMNS, houses, houses_model, log_rows


def _columns(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["column"]: c for c in report["columns"]}


def test_rows_like_the_reference_raise_no_alert(workspace: Workspace) -> None:
    assay.run(houses_model, workspace=workspace)
    log_rows(workspace, houses(400, seed=21), COLUMNS["plain"])
    checked = check_drift(workspace, "houses@1", Window())
    assert checked.window.status == "ok" and checked.alert is None
    assert checked.window.rows == 400
    columns = _columns(checked.window.report)
    assert set(columns) == {"rooms", "area", "predicted", "p(cheap)", "p(dear)"}
    assert columns["area"]["kind"] == "numeric" and columns["predicted"]["kind"] == "categorical"


def test_a_shifted_column_raises_a_drift_alert_naming_it(workspace: Workspace) -> None:
    assay.run(houses_model, {"kind": "mixed"}, workspace=workspace)
    log_rows(workspace, houses(300, seed=22, area_shift=30.0), COLUMNS["mixed"])
    checked = check_drift(workspace, "houses@1", Window())
    assert checked.window.status == "drift" and checked.alert is not None
    assert "area" in checked.alert.details["drifted"]
    assert "rooms" not in checked.alert.details["drifted"]
    assert _columns(checked.window.report)["city"]["kind"] == "categorical"


def test_a_regressor_is_checked_on_its_predicted_numbers(workspace: Workspace) -> None:
    assay.run(houses_model, {"kind": "ridge"}, workspace=workspace)
    log_rows(workspace, houses(300, seed=23, area_shift=30.0), COLUMNS["ridge"])
    checked = check_drift(workspace, "houses@1", Window())
    columns = _columns(checked.window.report)
    assert columns["predicted"]["kind"] == "numeric"
    assert {"area", "predicted"} <= set(checked.window.report["drifted"])
    with pytest.raises(DataError, match="houses@1 is a regressor; live performance") as caught:
        check_performance(workspace, "houses@1", Window())
    assert "--kind drift" in (caught.value.hint or "")


def test_a_small_or_empty_window_never_alerts(workspace: Workspace) -> None:
    assay.run(houses_model, workspace=workspace)
    assert check_drift(workspace, "houses@1", Window()).window.status == "too few rows"
    log_rows(workspace, houses(30, seed=24, area_shift=30.0), COLUMNS["plain"])
    checked = check_drift(workspace, "houses@1", Window())
    assert checked.window.status == "too few rows" and checked.alert is None


def test_a_version_without_reference_data_says_how_to_make_it_for_a_table(
    workspace: Workspace,
) -> None:
    assay.run(houses_model, {"with_reference": False}, workspace=workspace)
    with pytest.raises(DataError, match="houses@1 has no reference data") as caught:
        check_drift(workspace, "houses@1", Window())
    assert "label_column" in (caught.value.hint or "")


def test_a_logged_row_that_does_not_fit_the_signature_is_named(workspace: Workspace) -> None:
    assay.run(houses_model, workspace=workspace)
    record = PredictionRecord(
        uuid.uuid4().hex, "houses", 1, time.time(), 1.0, "v1", [{"rooms": 2}], [{}]
    )
    workspace.metadata.log_predictions([record])
    with pytest.raises(DataError, match="holds a row that does not fit its signature: row 0 has"):
        check_drift(workspace, "houses@1", Window())
