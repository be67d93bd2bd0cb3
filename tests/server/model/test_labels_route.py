"""Late labels over HTTP: POST /v1/models/{name}/labels stores them as `assay monitor label`
does, finds requests answered a moment before, and refuses bad bodies with a clear 4xx."""

from __future__ import annotations

import hashlib

import httpx
import pytest
import sqlalchemy as sa

from assay.errors import ConfigError
from assay.server.model.http import serving
from assay.serving.server import ModelServer, ServeOptions
from assay.workspace import Workspace

PROFIT = "profit rose strongly again"
TOKEN = "a-labels-token-of-some-length"
AUTH = {"authorization": f"Bearer {TOKEN}"}
TAKING = ServeOptions(accept_labels=True, labels_token=TOKEN)


def _predict(url: str, request_id: str, texts: list[str]) -> None:
    response = httpx.post(
        f"{url}/v1/models/tiny:predict",
        json={"instances": texts},
        headers={"x-request-id": request_id},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == request_id


def test_labels_for_requests_just_answered_are_stored(served: Workspace) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        _predict(url, "a", [PROFIT, "loss widened"])
        _predict(url, "b", [PROFIT])
        # At once: the prediction log's writer has not run its 0.25 s batch yet.
        response = httpx.post(
            f"{url}/v1/models/tiny/labels",
            headers=AUTH,
            json={
                "labels": [
                    {"request_id": "a", "label": "up"},
                    {"request_id": "a", "label": "down", "row": 1},
                    {"request_id": "b", "label": "down", "row": 0},
                    {"request_id": "b", "label": "up", "row": 1},  # b held one text
                    {"request_id": "ghost", "label": "up"},
                ]
            },
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"stored": 3, "replaced": 0, "unknown": ["b#1", "ghost"]}
        again = httpx.post(
            f"{url}/v1/models/tiny/labels",
            headers=AUTH,
            json={"labels": [{"request_id": "b", "label": "up"}]},
        )
        assert again.json() == {"stored": 1, "replaced": 1, "unknown": []}
    assert served.metadata.labels_for(["a", "b", "ghost"]) == {
        ("a", 0): "up",
        ("a", 1): "down",
        ("b", 0): "up",
    }
    [entry] = [p for p in served.metadata.predictions("tiny") if p.request_id == "b"]
    assert entry.inputs == [PROFIT]


def test_the_route_finds_a_request_the_log_writer_still_holds(served: Workspace) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, server):
        assert server.log is not None
        server.log.flush_s = 60  # the writer would hold the next batch a minute
        _predict(url, "held", [PROFIT])
        response = httpx.post(
            f"{url}/v1/models/tiny/labels",
            headers=AUTH,
            json={"labels": [{"request_id": "held", "label": "up"}]},
            timeout=10,
        )
        assert response.json() == {"stored": 1, "replaced": 0, "unknown": []}
    assert served.metadata.labels_for(["held"]) == {("held", 0): "up"}


def test_labels_matching_no_logged_request_are_a_422(served: Workspace) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        response = httpx.post(
            f"{url}/v1/models/tiny/labels",
            headers=AUTH,
            json={"labels": [{"request_id": "ghost", "label": "up"}]},
        )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "none of the 1 labels matches a logged request" in error and "'ghost'" in error
    assert served.metadata.labels_for(["ghost"]) == {}


def test_labels_for_a_model_not_served_are_a_404(served: Workspace) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        response = httpx.post(
            f"{url}/v1/models/nope/labels",
            json={"labels": [{"request_id": "a", "label": "up"}]},
            headers=AUTH,
        )
    assert response.status_code == 404
    assert "no model named 'nope'" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "the body must be a JSON object, got list"),
        (b'{"label": []}', "unknown field 'label'"),
        (b"{}", '"labels" must be a non-empty list'),
        (b'{"labels": []}', '"labels" must be a non-empty list'),
        (b'{"labels": {"request_id": "a"}}', '"labels" must be a non-empty list'),
        (b'{"labels": ["a"]}', "labels[0] must be an object, got str"),
        (b'{"labels": [{"label": "up"}]}', "labels[0].request_id must be a non-empty string"),
        (b'{"labels": [{"request_id": 7, "label": "up"}]}', "request_id must be a non-empty"),
        (
            b'{"labels": [{"request_id": "a", "label": "up"}, {"request_id": "a"}]}',
            "labels[1].label must be a non-empty string, got null",
        ),
        (b'{"labels": [{"request_id": "a", "label": ""}]}', "got an empty string"),
        (b'{"labels": [{"request_id": "a", "label": "up", "row": -1}]}', "row must be a whole"),
        (b'{"labels": [{"request_id": "a", "label": "up", "row": "1"}]}', 'got "1"'),
        (b'{"labels": [{"request_id": "a", "label": "up", "row": true}]}', "got true"),
        (b'{"labels": [{"request_id": "a", "label": "up", "why": 1}]}', "unknown field 'why'"),
    ],
)
def test_malformed_label_bodies_are_a_400_naming_the_problem(
    served: Workspace, body: bytes, needle: str
) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        _predict(url, "a", [PROFIT])
        response = httpx.post(
            f"{url}/v1/models/tiny/labels",
            content=body,
            headers={**AUTH, "content-type": "application/json"},
        )
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]
    assert "Traceback" not in response.text
    assert served.metadata.labels_for(["a"]) == {}


def test_the_prediction_log_flush_waits_for_what_was_queued(served: Workspace) -> None:
    from assay.metadata import PredictionRecord
    from assay.serving.predlog import PredictionLog

    log = PredictionLog(served.metadata, flush_s=60)  # would otherwise hold them a minute
    for i in range(3):
        log.put(PredictionRecord(f"r{i}", "tiny", 1, 0.0, 1.0, "v1", ["x"], [{"label": "up"}]))
    assert log.flush(timeout=10)
    assert {k: v.rows for k, v in served.metadata.logged_requests(["r0", "r1", "r2"]).items()} == {
        "r0": 1,
        "r1": 1,
        "r2": 1,
    }
    log.close()
    assert log.flush()  # closed: nothing is left to wait for


def test_the_route_is_off_unless_asked_for_and_then_takes_the_token(served: Workspace) -> None:
    body = {"labels": [{"request_id": "a", "label": "up"}]}
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        _predict(url, "a", [PROFIT])
        off = httpx.post(f"{url}/v1/models/tiny/labels", headers=AUTH, json=body)
        assert off.status_code == 403 and "--accept-labels" in off.json()["error"]
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
            refused = httpx.post(f"{url}/v1/models/tiny/labels", json=body, headers=headers)
            assert refused.status_code == 401 and "token" in refused.json()["error"]
        taken = httpx.post(f"{url}/v1/models/tiny/labels", json=body, headers=AUTH)
        assert taken.status_code == 200 and taken.json()["stored"] == 1
    assert served.metadata.labels_for(["a"]) == {("a", 0): "up"}


@pytest.mark.parametrize("token", [None, "", "short"])
def test_labels_are_never_taken_without_a_token_of_some_length(
    served: Workspace, token: str | None
) -> None:
    with pytest.raises(ConfigError, match="--accept-labels needs a token") as caught:
        ModelServer(served, ["tiny@live"], ServeOptions(accept_labels=True, labels_token=token))
    assert "ASSAY_LABELS_TOKEN" in caught.value.hint


def test_labels_that_are_not_classes_are_refused_and_who_labelled_is_recorded(
    served: Workspace,
) -> None:
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        _predict(url, "a", [PROFIT, "loss widened"])
        for bad in ("pwned", "Up"):
            labels = [{"request_id": "a", "label": "up"}, {"request_id": "a", "label": bad}]
            refused = httpx.post(
                f"{url}/v1/models/tiny/labels", json={"labels": labels}, headers=AUTH
            )
            assert refused.status_code == 400, refused.text
            assert repr(bad) in refused.json()["error"] and "down, up" in refused.json()["error"]
        assert served.metadata.labels_for(["a"]) == {}  # nothing of a refused batch is kept
        taken = httpx.post(
            f"{url}/v1/models/tiny/labels",
            json={"labels": [{"request_id": "a", "label": "down"}]},
            headers=AUTH,
        )
        assert taken.status_code == 200
    fingerprint = hashlib.sha256(TOKEN.encode()).hexdigest()[:12]
    with served.metadata.engine.connect() as conn:
        who = conn.execute(sa.text("SELECT user FROM labels")).scalars().all()
    assert who == [f"labels-token:{fingerprint}"]


def test_labels_for_another_models_requests_are_not_taken(served: Workspace) -> None:
    from assay.metadata import PredictionRecord

    served.metadata.log_predictions(
        [PredictionRecord("elsewhere", "other", 1, 1.0, 1.0, "v1", ["x"], [{}])]
    )
    with serving(served, ["tiny@live"], TAKING) as (url, _):
        _predict(url, "mine", [PROFIT])
        labels = [{"request_id": "elsewhere", "label": "up"}, {"request_id": "mine", "label": "up"}]
        answer = httpx.post(f"{url}/v1/models/tiny/labels", headers=AUTH, json={"labels": labels})
        assert answer.json() == {"stored": 1, "replaced": 0, "unknown": ["elsewhere"]}
        too_long = [{"request_id": "mine", "label": "x" * 201}]
        refused = httpx.post(
            f"{url}/v1/models/tiny/labels", headers=AUTH, json={"labels": too_long}
        )
        assert refused.status_code == 400 and "201 characters" in refused.json()["error"]
    assert served.metadata.labels_for(["elsewhere"]) == {}
