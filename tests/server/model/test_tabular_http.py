"""Tabular models over HTTP: columns as V2 tensors (one each, or one 2-D tensor), V1 rows as
lists or objects, each checked against the version's signature with a 400 naming the
column; classifiers answer labels and probabilities, regressors numbers; and the
prediction log keeps the rows, as monitoring reads them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import assay
from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import Workspace
from tests.tabularmodel import houses, houses_model

HOUSES = houses(4, seed=7)


@pytest.fixture
def tabular(workspace: Workspace) -> Workspace:
    """`plain` (rooms, area -> dear/cheap), `mixed` (+ city) and `ridge` (price)."""
    for kind in ("plain", "mixed", "ridge"):
        assay.run(houses_model, {"kind": kind, "name": kind}, workspace=workspace)
    return workspace


def tensor(name: str, datatype: str, data: list[Any]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": [len(data)], "data": data}


def columns(frame: Any = HOUSES, city: bool = True) -> list[dict[str, Any]]:
    found = [
        tensor("rooms", "INT64", [int(v) for v in frame.rooms]),
        tensor("area", "FP64", [float(v) for v in frame.area]),
    ]
    return [*found, tensor("city", "BYTES", list(frame.city))] if city else found


def test_v2_one_tensor_per_column_and_one_2d_tensor_agree_with_batch_scoring(
    tabular: Workspace,
) -> None:
    from assay.serving.loaded import load_version

    record = tabular.metadata.model_version("plain", 1)
    assert record is not None
    expected = load_version(tabular, record).predict_table(HOUSES[["rooms", "area"]])
    with serving(tabular, ["plain@1"], ServeOptions()) as (url, _):
        named = httpx.post(
            f"{url}/v2/models/plain/infer", json={"inputs": columns(city=False)}
        ).json()
        label, proba = named["outputs"]
        assert label["data"] == expected.predictions
        assert proba["shape"] == [4, 2] and proba["data"] == pytest.approx(
            [p for row in expected.probabilities or [] for p in row]
        )
        matrix = [[float(r), float(a)] for r, a in zip(HOUSES.rooms, HOUSES.area, strict=True)]
        whole = httpx.post(
            f"{url}/v2/models/plain/infer",
            json={"inputs": [{"name": "x", "datatype": "FP64", "shape": [4, 2], "data": matrix}]},
        ).json()
        assert whole["outputs"][0]["data"] == expected.predictions
        meta = httpx.get(f"{url}/v2/models/plain").json()
        assert [(t["name"], t["datatype"]) for t in meta["inputs"]] == [
            ("rooms", "INT64"),
            ("area", "FP64"),
        ]


def test_v1_rows_as_lists_or_objects_and_a_regressor_answers_numbers(tabular: Workspace) -> None:
    rows = [
        [int(r), float(a), c]
        for r, a, c in zip(HOUSES.rooms, HOUSES.area, HOUSES.city, strict=True)
    ]
    objects = [dict(zip(["rooms", "area", "city"], row, strict=True)) for row in rows]
    with serving(tabular, ["mixed@1", "ridge@1"], ServeOptions()) as (url, _):
        listed = httpx.post(f"{url}/v1/models/mixed:predict", json={"instances": rows}).json()
        named = httpx.post(f"{url}/v1/models/mixed:predict", json={"instances": objects}).json()
        assert listed["predictions"] == named["predictions"]
        assert {p["label"] for p in listed["predictions"]} <= {"dear", "cheap"}
        price = httpx.post(f"{url}/v1/models/ridge:predict", json={"instances": objects}).json()
        assert all(isinstance(v, float) for v in price["predictions"])
        v2 = httpx.post(f"{url}/v2/models/ridge/infer", json={"inputs": columns()}).json()
        assert v2["outputs"][0]["name"] == "value"
        assert v2["outputs"][0]["data"] == pytest.approx(price["predictions"])
        made_up = httpx.post(
            f"{url}/v2/models/ridge/infer",
            json={"inputs": columns(), "outputs": [{"name": "label"}]},
        )
        assert made_up.status_code == 400 and "value" in made_up.json()["error"]


@pytest.mark.parametrize(
    ("inputs", "needle"),
    [
        (columns()[:2], "column 'city' is missing"),
        ([*columns(), tensor("garden", "BOOL", [True] * 4)], "'garden'"),
        ([tensor("rooms", "BYTES", ["a"] * 4), *columns()[1:]], "column 'rooms' is int64"),
        (
            [columns()[0], tensor("area", "FP64", ["big", 1.0, 2.0, 3.0]), columns()[2]],
            "'area'",
        ),
        ([tensor("rooms", "INT64", [1, 2]), *columns()[1:]], "'rooms'"),
    ],
)
def test_a_request_that_does_not_fit_the_signature_is_a_400_naming_the_column(
    tabular: Workspace, inputs: list[dict[str, Any]], needle: str
) -> None:
    with serving(tabular, ["mixed@1"], ServeOptions()) as (url, _):
        answer = httpx.post(f"{url}/v2/models/mixed/infer", json={"inputs": inputs})
    assert answer.status_code == 400, answer.text
    assert needle in answer.json()["error"]


def test_v1_rows_of_the_wrong_width_are_a_400(tabular: Workspace) -> None:
    with serving(tabular, ["plain@1"], ServeOptions()) as (url, _):
        short = httpx.post(f"{url}/v1/models/plain:predict", json={"instances": [[3]]})
        assert short.status_code == 400 and "rooms, area" in short.json()["error"]
        mixed = httpx.post(f"{url}/v1/models/plain:predict", json={"instances": [[3, 60.0], "x"]})
        assert mixed.status_code == 400


def test_tabular_rows_reach_the_prediction_log_as_objects(tabular: Workspace) -> None:
    with serving(tabular, ["mixed@1"], ServeOptions()) as (url, server):
        answer = httpx.post(f"{url}/v2/models/mixed/infer", json={"id": "t1", "inputs": columns()})
        assert answer.status_code == 200
        assert server.log is not None
        server.log.flush()
    (logged,) = [r for r in tabular.metadata.predictions("mixed") if r.request_id == "t1"]
    assert logged.inputs[0] == {
        "rooms": int(HOUSES.rooms[0]),
        "area": pytest.approx(float(HOUSES.area[0])),
        "city": HOUSES.city[0],
    }
    assert set(logged.outputs[0]) == {"label", "probabilities"}


def test_a_long_text_in_a_tabular_row_is_logged_cut_with_the_whole_rows_digest(
    tabular: Workspace,
) -> None:
    import hashlib
    import json

    long_city = "north" * 400  # 2,000 characters: an unknown city the encoder ignores
    sent = columns(HOUSES.iloc[:2])
    sent[2]["data"] = [long_city, "south"]
    with serving(tabular, ["mixed@1"], ServeOptions(log_max_chars=100)) as (url, server):
        answer = httpx.post(f"{url}/v2/models/mixed/infer", json={"id": "long", "inputs": sent})
        assert answer.status_code == 200
        assert server.log is not None
        server.log.flush()
    (logged,) = [r for r in tabular.metadata.predictions("mixed") if r.request_id == "long"]
    first = {"rooms": int(HOUSES.rooms[0]), "area": float(HOUSES.area[0]), "city": long_city}
    assert logged.inputs[0] == {**first, "city": long_city[:100]}
    assert logged.inputs[1]["city"] == "south"
    whole = json.dumps(first, sort_keys=True)
    assert logged.outputs[0]["input_chars"] == len(whole)
    assert logged.outputs[0]["input_sha256"] == hashlib.sha256(whole.encode()).hexdigest()
    assert "input_chars" not in logged.outputs[1]


def test_concurrent_tabular_requests_are_scored_together(tabular: Workspace) -> None:
    async def go(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            body = {"inputs": columns(HOUSES.iloc[:1], city=False)}
            return list(
                await asyncio.gather(
                    *(client.post("/v2/models/plain/infer", json=body) for _ in range(12))
                )
            )

    with serving(tabular, ["plain@1"], ServeOptions(max_wait_ms=100)) as (url, _):
        answers = asyncio.run(go(url))
        assert {a.status_code for a in answers} == {200}
        assert len({a.json()["outputs"][0]["data"][0] for a in answers}) == 1
        metrics = httpx.get(f"{url}/metrics").text
    # Shared model calls: fewer than twelve requests were scored alone.
    assert 'assay_batch_rows_count{model="plain",version="1"} 12.0' in metrics
    alone = next(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('assay_batch_rows_bucket{le="1.0",model="plain"')
    )
    assert alone < 12
