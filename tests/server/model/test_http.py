"""The model server over real HTTP on 127.0.0.1: KServe V1, Open Inference Protocol V2,
metrics, hot swap, the prediction log and refusals of bad input."""

from __future__ import annotations

import httpx
import pytest

from assay.governance import promote
from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import Workspace
from tests.waiting import wait_until

PROFIT = "profit rose strongly again"


def test_v1_and_v2_answer_with_probabilities_version_and_lineage(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        assert httpx.get(f"{url}/v1/models").json() == {"models": ["tiny"]}
        assert httpx.get(f"{url}/v1/models/tiny").json()["version"] == "1"
        v1 = httpx.post(
            f"{url}/v1/models/tiny:predict", json={"instances": [PROFIT, "loss widened"]}
        )
        assert v1.status_code == 200, v1.text
        body = v1.json()
        assert [p["label"] for p in body["predictions"]] == ["up", "down"]
        assert body["model_version"] == "1" and body["lineage_id"].startswith("sha256:")
        assert sum(body["predictions"][0]["probabilities"].values()) == pytest.approx(1.0)
        v2 = httpx.post(
            f"{url}/v2/models/tiny/infer",
            json={
                "id": "req-7",
                "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [PROFIT]}],
            },
        ).json()
        assert v2["id"] == "req-7" and v2["model_version"] == "1"
        label, proba = v2["outputs"]
        assert label["data"] == ["up"] and proba["shape"] == [1, 2]
        assert v2["parameters"]["classes"] == ["down", "up"]
        meta = httpx.get(f"{url}/v2/models/tiny").json()
        assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
        assert meta["platform"] == "assay-linear-text"  # answered by the compiled form
        assert httpx.get(f"{url}/v2/health/ready").json() == {"ready": True}
        assert httpx.get(f"{url}/v2/models/tiny/versions/1/ready").status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
        assert (
            'assay_requests_total{code="200",model="tiny",protocol="v1",version="1"} 1.0' in metrics
        )
        assert "assay_batch_rows_bucket" in metrics


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/v1/models/tiny:predict", b"{not json", 400, "not valid JSON"),
        ("/v1/models/tiny:predict", b"[1, 2]", 400, "must be a JSON object"),
        ("/v1/models/tiny:predict", b'{"instance": ["a"]}', 400, 'exactly one of "instances"'),
        ("/v1/models/tiny:predict", b'{"instances": []}', 400, "instances is empty"),
        ("/v1/models/tiny:predict", b'{"instances": [null]}', 400, "instances[0] must be a text"),
        ("/v1/models/tiny:predict", b'{"instances": ["a", 3]}', 400, "instances[1] must be a text"),
        ("/v1/models/nope:predict", b'{"instances": ["a"]}', 404, "no model named 'nope'"),
        ("/v2/models/tiny/versions/9/infer", b'{"inputs": []}', 404, "no version '9'"),
        (
            "/v2/models/tiny/infer",
            b'{"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "shape is [2] but data holds 1",
        ),
        (
            "/v2/models/tiny/infer",
            b'{"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": ["a"]}]}',
            400,
            "datatype is 'FP32'",
        ),
        (
            "/v2/models/tiny/infer",
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "this model takes",
        ),
        (
            "/v2/models/tiny/infer",
            b'{"inputs": [{"name": "text", "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "has no 'shape'",
        ),
        (
            "/v2/models/tiny/infer",
            b'{"id": 5, "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "id must be",
        ),
        ("/v1/models/tiny:predict", b'{"instances": ["' + b"a" * 2000 + b'"]}', 413, "limit"),
        ("/v3/anything", b"{}", 404, "no such route"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    served: Workspace, path: str, body: bytes, status: int, needle: str
) -> None:
    with serving(served, ["tiny@live"], ServeOptions(max_body_bytes=1000)) as (url, _):
        response = httpx.post(
            f"{url}{path}", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in error
    assert (
        "Traceback" not in response.text
        and "/work" not in response.text
        and "/tmp" not in response.text
    )


def test_alias_move_swaps_without_failing_a_request_and_everything_is_logged(
    served: Workspace,
) -> None:
    import concurrent.futures
    import threading

    stop = threading.Event()
    answered: list[tuple[int, str]] = []  # by every client, in order (append is atomic)
    with serving(served, ["tiny@live"], ServeOptions(poll_s=0.1)) as (url, server):

        def load() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    r = client.post(f"{url}/v1/models/tiny:predict", json={"instances": [PROFIT]})
                    answered.append((r.status_code, r.json().get("model_version", "")))

        def seen(version: str) -> bool:
            for future in futures:
                if future.done():
                    future.result()  # a client that stopped early says why
            return any(v == version for _, v in answered)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(load) for _ in range(4)]
            try:
                wait_until(lambda: seen("1"), message="no request was answered before the move")
                promote(served, "tiny@2", "live")
                wait_until(
                    lambda: server.slots["tiny"].current.version == 2,
                    message="the server did not load tiny@2",
                )
                wait_until(lambda: seen("2"), message="no request was answered by tiny@2")
            finally:
                stop.set()  # else leaving the pool waits on the clients forever
            for future in futures:
                future.result()
    results = list(answered)
    assert results and all(code == 200 for code, _ in results)
    versions = [v for _, v in results]
    assert versions[0] == "1" and "2" in versions
    logged = served.metadata.predictions("tiny")
    assert len(logged) == len(results)  # every request, written by the time the server stopped
    assert {p.version for p in logged} == {1, 2}
    assert all(p.outputs[0]["label"] in {"up", "down"} for p in logged)


def test_explanations_of_a_linear_model_add_up_exactly(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        response = httpx.post(f"{url}/v1/models/tiny:explain", json={"instances": [PROFIT]})
        assert response.status_code == 200, response.text
        body = response.json()
        [explained] = body["explanations"]
        assert explained["label"] == "up" and body["model_version"] == "1"
        up = explained["classes"]["up"]  # binary: one score, for the second class
        assert up["sum_of_contributions"] + up["intercept"] == pytest.approx(up["score"])
        features = {c["feature"] for c in up["top"]}
        assert {"profit", "rose", "strongly"} <= features
        assert all(c["contribution"] > 0 for c in up["top"] if c["feature"] == "profit")
        bad = httpx.post(f"{url}/v1/models/tiny:explain", json={"instances": [1]})
        assert bad.status_code == 400


def test_a_model_that_is_not_linear_is_refused_with_a_4xx() -> None:
    from sklearn.dummy import DummyClassifier

    from assay.metadata import ModelVersionRecord
    from assay.serving.explain import explain_linear
    from assay.serving.loaded import LoadedModel
    from assay.serving.protocol import BadRequest

    model = DummyClassifier().fit([[0], [1]], ["a", "b"])
    record = ModelVersionRecord("d", 1, "0" * 64, "skops", "r", "e", 0.0, "alice")
    with pytest.raises(BadRequest, match="not a linear text model") as caught:
        explain_linear(LoadedModel(record, model, ("a", "b")), ["x"])
    assert caught.value.status == 422


def test_model_agnostic_explanations_with_shap(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        response = httpx.post(
            f"{url}/v1/models/tiny:explain?method=shap",
            json={"instances": [PROFIT]},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        [explained] = response.json()["explanations"]
        assert explained["method"] == "shap-partition" and explained["label"] == "up"
        up = explained["classes"]["up"]
        # SHAP's efficiency: the base value plus the tokens' values give the model's output.
        assert up["base_value"] + up["sum_of_contributions"] == pytest.approx(
            up["probability"], abs=0.05
        )
        contribution = {c["feature"]: c["contribution"] for c in up["top"]}
        assert contribution["profit"] > 0
        unknown = httpx.post(
            f"{url}/v1/models/tiny:explain?method=magic", json={"instances": ["a"]}
        )
        assert (
            unknown.status_code == 400 and "unknown explanation method" in unknown.json()["error"]
        )
