"""schemathesis against the running server's own /openapi.json: every route it lists, fed
what the schema allows and what it does not, answers without a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

import assay
from assay import Settings
from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import Workspace, open_workspace
from tests.textmodel import tiny

TOKEN = "a-labels-token-for-the-fuzzer"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzzed")
    ws: Workspace = open_workspace(Settings.for_project(root, user="alice"))
    assay.run(tiny, workspace=ws)
    options = ServeOptions(accept_labels=True, labels_token=TOKEN, body_timeout_s=5)
    try:
        with serving(ws, ["tiny@1"], options) as (url, _):
            yield url
    finally:
        ws.close()


@pytest.fixture(scope="module")
def api(live: str) -> Any:
    return schemathesis.openapi.from_url(f"{live}/openapi.json")


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_a_5xx(case: Any, live: str) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"} if case.path.endswith("/labels") else {}
    response = case.call(base_url=live, headers=headers, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text)
    kind = response.headers.get("content-type") or [""]  # schemathesis keeps every value
    assert kind[0].startswith(("application/json", "text/plain")), kind
