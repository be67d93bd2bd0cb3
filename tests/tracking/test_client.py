from __future__ import annotations

import math

import pandas as pd
import pytest

import assay
from assay import Client, log_metrics, log_params, start_run
from assay.errors import ParameterError, RecordNotFoundError
from assay.workspace import Workspace


def make_runs(ws: Workspace) -> list[str]:
    ids = []
    for c, f1 in ((0.1, 0.6), (1.0, 0.8), (10.0, math.nan)):
        with start_run("sweep", workspace=ws, params={"C": c}, tags={"kind": "grid"}) as run:
            for epoch in range(3):
                log_metrics({"loss": 1.0 / (epoch + 1 + c)}, step=epoch)
            log_metrics({"f1": f1})
            log_params({"solver": "lbfgs"})
        ids.append(run.run_id)
    with start_run("other", workspace=ws):
        log_metrics({"f1": 0.99})
    return ids


def test_runs_as_a_dataframe_filtered_and_ordered(workspace: Workspace) -> None:
    ids = make_runs(workspace)
    client = Client(workspace=workspace)
    frame = client.runs(experiment="sweep", order_by="-metrics.f1")
    assert list(frame["id"]) == [ids[1], ids[0], ids[2]]
    assert list(frame.columns[:7]) == [
        "id",
        "experiment",
        "pipeline",
        "status",
        "user",
        "started_at",
        "ended_at",
    ]
    assert {"params.C", "params.solver", "tags.kind", "metrics.f1", "metrics.loss"} <= set(
        frame.columns
    )
    assert frame["metrics.loss"].iloc[0] == pytest.approx(1.0 / 4.0)  # the last step's value
    assert math.isnan(frame["metrics.f1"].iloc[2])
    assert isinstance(frame["started_at"].iloc[0], pd.Timestamp)
    best = client.runs(where="metrics.f1 > 0.7 and params.C < 5", limit=5)
    assert list(best["id"]) == [ids[1]]
    with pytest.raises(ParameterError, match="bad filter"):
        client.runs(where="metrics.f1 >>")


def test_metrics_history_and_run(workspace: Workspace) -> None:
    ids = make_runs(workspace)
    client = Client(workspace=workspace)
    history = client.metrics_history(ids[0][:8], "loss")
    assert list(history["step"]) == [0, 1, 2]
    assert history["value"].iloc[0] == pytest.approx(1 / 1.1)
    assert client.run(ids[0][:10]).params["C"] == 0.1
    with pytest.raises(RecordNotFoundError, match="has no metric 'acc'.*f1, loss"):
        client.metrics_history(ids[0], "acc")


def test_compare_shows_runs_side_by_side(workspace: Workspace) -> None:
    ids = make_runs(workspace)
    with Client(workspace=workspace) as client:
        table = client.compare(ids[0], ids[1])
    assert list(table.columns) == [ids[0][:12], ids[1][:12]]
    assert table.loc["params.C"].tolist() == [0.1, 1.0]
    assert table.loc["params.solver"].tolist() == ["lbfgs", "lbfgs"]


def test_client_from_settings(settings: assay.Settings) -> None:
    with start_run("s", settings=settings):
        log_metrics({"x": 1.0})
    with Client(settings) as client:
        assert client.runs()["metrics.x"].tolist() == [1.0]


def test_unknown_names_are_errors_not_empty_results(workspace: Workspace) -> None:
    make_runs(workspace)
    client = Client(workspace=workspace)
    with pytest.raises(RecordNotFoundError, match="unknown experiment 'swep'.*other, sweep"):
        client.runs(experiment="swep")
    with pytest.raises(ParameterError, match="no run has logged a metric named 'f2'"):
        client.runs(where="metrics.f2 > 0.5")
    with pytest.raises(ParameterError, match="no run has logged a metric named 'acc'"):
        client.runs(where="metrics.f1 > 2", order_by="-metrics.acc")
    assert client.runs(where="metrics.f1 > 2").empty  # a real metric, no match: just empty
