"""Generated requests, valid and not, against a real server: never a 5xx, never a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import assay
from assay import Settings
from assay.governance import promote
from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import open_workspace
from tests.textmodel import tiny

PATHS = [
    "/v1/models/tiny:predict",
    "/v1/models/other:predict",
    "/v2/models/tiny/infer",
    "/v2/models/tiny/versions/1/infer",
    "/v2/models/tiny/versions/x/infer",
    "/v1/models/tiny:explain",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Lone surrogates are valid JSON escapes but no text: the server must refuse them, not fail.
surrogates = st.builds(
    lambda head, cut, tail: head + cut + tail,
    st.text(max_size=10),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=10),
)
texts = st.lists(st.one_of(st.text(max_size=40), surrogates, json_values), max_size=5)
v1_bodies = st.fixed_dictionaries(
    {}, optional={"instances": texts, "inputs": texts, "id": json_values, "extra": json_values}
)
tensors = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["text", "x"]) | json_values,
        "shape": st.lists(st.integers(-2, 6), max_size=3) | json_values,
        "datatype": st.sampled_from(["BYTES", "FP32", "INT64"]) | json_values,
        "data": texts,
    },
)
v2_bodies = st.fixed_dictionaries(
    {}, optional={"inputs": st.lists(tensors, max_size=2) | json_values, "id": json_values}
)
valid_texts = st.lists(st.text(max_size=60), min_size=1, max_size=8)
valid = st.one_of(
    valid_texts.map(lambda t: json.dumps({"instances": t})),
    valid_texts.map(
        lambda t: json.dumps(
            {"inputs": [{"name": "text", "shape": [len(t)], "datatype": "BYTES", "data": t}]}
        )
    ),
)
bodies = st.one_of(
    valid,
    v1_bodies.map(json.dumps),
    v2_bodies.map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    ws = open_workspace(Settings.for_project(tmp_path, user="alice"))
    assay.run(tiny, workspace=ws)
    promote(ws, "tiny@1", "live")
    options = ServeOptions(max_body_bytes=2000)
    with serving(ws, ["tiny@live"], options) as (url, _), httpx.Client(base_url=url) as http:
        yield http
    ws.close()


def test_a_thousand_generated_requests_get_no_5xx(client: httpx.Client) -> None:
    sent: list[int] = []

    @settings(
        max_examples=1100,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure can be replayed
        suppress_health_check=list(HealthCheck),
    )
    @given(path=st.sampled_from(PATHS), body=bodies)
    def check(path: str, body: str) -> None:
        response = client.post(
            path,
            content=body.encode("utf-8", "surrogatepass"),
            headers={"content-type": "application/json"},
        )
        sent.append(response.status_code)
        assert response.status_code < 500, (path, body, response.text)
        payload: Any = response.json()
        if response.status_code >= 400:
            assert set(payload) == {"error"} and payload["error"]
            assert "Traceback" not in payload["error"] and "/tmp" not in payload["error"]

    check()
    assert len(sent) >= 1000
    assert 200 in sent and any(400 <= code < 500 for code in sent)  # both kinds were reached
