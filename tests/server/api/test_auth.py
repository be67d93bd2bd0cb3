"""No change without an authorised identity: every mutating route of the schema refuses no
token, an expired one, a revoked one and a viewer's; a laptop server has one local admin,
and never listens beyond loopback without authentication."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from assay.errors import ConfigError
from assay.governance import issue_token, revoke_token
from assay.server.api.app import TeamOptions
from assay.server.api.auth import check_exposure
from assay.server.api.http import team_serving
from tests.server.api.conftest import Team

MUTATING = ("post", "put", "patch", "delete")


def _mutating_routes(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Each mutating route, its path filled in, and a body of the type it takes."""
    found = []
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            if method in MUTATING:
                # Path parameters filled with names that exist, or plausibly could.
                filled = re.sub(r"\{[^}]*version[^}]*\}", "1", path)
                filled = re.sub(r"\{name\}", "toy", filled)
                filled = re.sub(r"\{alias\}", "production", filled)
                filled = re.sub(r"\{[^}]+\}", "x", filled)
                takes = spec.get("requestBody", {}).get("content", {})
                body: dict[str, Any] = (
                    {"content": b"bytes", "headers": {"Content-Type": "application/octet-stream"}}
                    if "application/octet-stream" in takes
                    else {"json": {}}
                )
                found.append((method, filled.removeprefix("/api/v1"), body))
    return found


def _credentials(team: Team) -> dict[str, str | None]:
    expired = issue_token(team.ws, "ann", "admin", days=0.00001).token
    revoked = issue_token(team.ws, "ann", "admin")
    revoke_token(team.ws, revoked.record.id)
    time.sleep(1.0)  # the short one expires
    return {
        "no token": None,
        "expired": expired,
        "revoked": revoked.token,
        "viewer": team.tokens["dave"],
    }


def test_every_mutating_route_refuses_what_is_not_an_authorised_identity(team: Team) -> None:
    schema = httpx.get(f"{team.url}/api/v1/openapi.json").json()
    routes = _mutating_routes(schema)
    assert len(routes) >= 9, routes
    before = team.ws.metadata.audit_head()
    for what, token in _credentials(team).items():
        head = team.ws.metadata.audit_head()
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path, body in routes:
            headers = {**auth, **body.get("headers", {})}
            sent = {k: v for k, v in body.items() if k != "headers"}
            answer = httpx.request(
                method.upper(), f"{team.url}/api/v1{path}", headers=headers, timeout=60, **sent
            )
            expected = 403 if what == "viewer" else 401
            assert answer.status_code in (expected, 400, 404), (what, method, path, answer.text)
            assert answer.status_code < 500, (method, path, answer.text)
            if what != "viewer":
                assert answer.status_code == 401, (what, method, path, answer.text)
                assert answer.headers["www-authenticate"].startswith("Bearer")
        assert team.ws.metadata.audit_head() == head, f"{what}: something changed"
    assert team.ws.metadata.audit_head() != before  # the credentials made above were sealed


def test_a_viewers_token_is_refused_with_the_role_it_needs(team: Team) -> None:
    dave = team.client("dave")
    for method, path, body in [
        ("post", "/users/erin/roles", {"role": "viewer"}),
        ("post", "/tokens", {"role": "viewer"}),
        ("post", "/models/toy/promotions", {"version": 1}),
        ("post", "/models/toy/aliases/candidate", {"version": 1}),
    ]:
        refused = dave.request(method.upper(), path, json=body)
        assert refused.status_code == 403, (path, refused.text)
        assert "role" in refused.json()["error"]
    assert dave.get("/models").status_code == 200  # reading is what a viewer does


def test_a_laptop_server_has_one_local_admin_and_checks_any_credential_it_is_given(
    team: Team,
) -> None:
    with team_serving(team.ws, TeamOptions(auth="local")) as (url, _):
        me = httpx.get(f"{url}/api/v1/whoami").json()
        assert me["user"] == "ann" and me["via"] == {"kind": "local"}
        bad = httpx.get(f"{url}/api/v1/whoami", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        good = httpx.get(
            f"{url}/api/v1/whoami", headers={"Authorization": f"Bearer {team.tokens['bob']}"}
        )
        assert good.json()["user"] == "bob"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_beyond_loopback_without_authentication_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="--auth token"):
        check_exposure(host, "local")
    check_exposure(host, "token")
    with pytest.raises(ConfigError, match="unknown authentication"):
        check_exposure("127.0.0.1", "open")


def test_a_malformed_header_is_a_401_naming_the_scheme(team: Team) -> None:
    answer = httpx.get(f"{team.url}/api/v1/whoami", headers={"Authorization": "Basic abc"})
    assert answer.status_code == 401 and "bearer" in answer.json()["error"]
