"""schemathesis against the team server's own schema, as its admin: every route, fed what
the schema allows and what it does not, answers without a 5xx and with a JSON body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from assay.governance import issue_token
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.workspace import open_workspace
from tests.server.api.conftest import team_store


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root: Path = tmp_path_factory.mktemp("fuzzed-team")
    ws = open_workspace(team_store(root))
    token = issue_token(ws, "ann", "admin").token
    try:
        with team_serving(ws, TeamOptions(auth="token")) as (url, _):
            yield url, token
    finally:
        ws.close()


@pytest.fixture(scope="module")
def api(live: tuple[str, str]) -> Any:
    return schemathesis.openapi.from_url(f"{live[0]}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_a_5xx(case: Any, live: tuple[str, str]) -> None:
    url, token = live
    response = case.call(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code < 500, (case.method, case.path, response.text)
    kind = response.headers.get("content-type") or [""]
    assert kind[0].startswith("application/json"), kind
