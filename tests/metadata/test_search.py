"""Filtering and ordering runs in SQL, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import math
import time

from assay.metadata import MetadataStore, MetricRecord
from assay.tracking import parse_order, parse_where
from tests.metadata.test_repository import make_run


def fill(meta: MetadataStore) -> None:
    runs = [
        ("r1", {"C": 1.0, "solver": "lbfgs"}, {"stage": "dev"}, [(0.7, 0), (0.75, 1)]),
        ("r2", {"C": 10.0, "solver": "saga"}, {"stage": "prod"}, [(0.9, 0)]),
        ("r3", {"C": 1.0, "solver": "saga"}, {}, [(math.nan, 0)]),
        ("r4", {"solver": "lbfgs"}, {"stage": "dev"}, []),
    ]
    for i, (run_id, params, tags, f1) in enumerate(runs):
        run = dataclasses.replace(make_run(run_id), params=params, tags=tags, started_at=1000.0 + i)
        meta.insert_run(run)
        meta.log_run_data(
            run_id, {}, [MetricRecord(run_id, "f1", v, time.time(), None, s) for v, s in f1]
        )


def ids(
    meta: MetadataStore, where: str | None = None, order: str = "", limit: int = 20
) -> list[str]:
    condition = parse_where(where) if where else None
    runs = meta.list_runs(where=condition, order=parse_order(order), limit=limit)
    return [r.id for r in runs]


def test_filters_on_metrics_params_tags_and_attributes(meta: MetadataStore) -> None:
    fill(meta)
    assert ids(meta, "metrics.f1 > 0.74") == ["r2", "r1"]  # the last value of r1 is 0.75
    assert ids(meta, "params.C = 1") == ["r3", "r1"]
    assert ids(meta, "params.solver = saga and metrics.f1 >= 0.9") == ["r2"]
    assert ids(meta, "tags.stage = dev or params.C > 5") == ["r4", "r2", "r1"]
    assert ids(meta, "params.solver like 'lb%'") == ["r4", "r1"]
    assert ids(meta, "id = r3") == ["r3"]
    assert ids(meta, "metrics.f1 < 2") == ["r2", "r1"]  # NaN and missing never match


def test_orders_put_missing_values_last(meta: MetadataStore) -> None:
    fill(meta)
    ordered = ids(meta, order="-metrics.f1")
    assert ordered[:2] == ["r2", "r1"]
    assert set(ordered[2:]) == {"r3", "r4"}  # NaN and no value at all come last
    assert ids(meta, order="metrics.f1", limit=2) == ["r1", "r2"]
    assert ids(meta, order="params.C, -started_at")[:3] == ["r3", "r1", "r2"]


def test_booleans_text_and_case(meta: MetadataStore) -> None:
    from assay.errors import ParameterError

    for run_id, params in (("b1", {"flag": True, "s": "Abc"}), ("b2", {"flag": False, "s": "x"})):
        meta.insert_run(dataclasses.replace(make_run(run_id), params=params))
    assert ids(meta, "params.flag = true") == ["b1"]
    assert ids(meta, "params.flag = false") == ["b2"]
    assert set(ids(meta, "params.s like 'a%' or params.s = x")) == {"b1", "b2"}
    try:
        outcome = set(ids(meta, "params.s < 1"))
    except ParameterError as exc:  # PostgreSQL will not read text as a number
        outcome = {str(exc)}
    # SQLite reads the text as 0 and matches; PostgreSQL refuses with a clear error.
    assert outcome == {"b1", "b2"} or any("quote the value" in o for o in outcome)
