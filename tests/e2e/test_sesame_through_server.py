"""sesame's governance flow with every command pointed at a live `assay server` over
PostgreSQL, each member's machine holding only an API token: carol trains sesame there,
dave approves, carol promotes, frank's run reuses carol's steps, erin asks who put it in production and verifies the audit
chain. No machine but the server's holds the database or the signing key, and what they
cannot do through the API they cannot do at all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay import Settings
from assay.governance import grant, issue_token
from assay.workspace import open_workspace
from tests.cli.conftest import Result, run_subprocess
from tests.cli.test_serve import free_port
from tests.conftest import ROOT
from tests.metadata.conftest import postgres_schema_url

SESAME = ROOT / "examples" / "sesame"


@dataclasses.dataclass
class Team:
    url: str
    tokens: dict[str, str]
    folder: Path
    settings: Settings  # the server's store

    def __call__(self, who: str, *args: str) -> Result:
        """`assay ARGS` on ``who``'s machine: a folder of their own, their token, the server."""
        laptop = self.folder / who
        laptop.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env |= {
            "ASSAY_HOME": str(laptop),
            "XDG_STATE_HOME": str(laptop / "state"),
            "XDG_CONFIG_HOME": str(laptop / "config"),
            "ASSAY_SERVER_URL": self.url,
            "ASSAY_TOKEN": self.tokens[who],
            "ASSAY_USER": "someone-else",  # means nothing to the server
            "COLUMNS": "200",
        }
        return run_subprocess(list(args), laptop, env, 600)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("through-server")
    urls = postgres_schema_url()
    server_home = folder / "server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env |= {
        "ASSAY_HOME": str(server_home),
        "ASSAY_DB_URL": next(urls),
        "XDG_STATE_HOME": str(folder / "server-state"),
        "ASSAY_USER": "ann",
    }
    settings = Settings.from_env(env)
    ws = open_workspace(settings)
    try:
        for user, role in [
            ("ann", "admin"),
            ("carol", "developer"),
            ("frank", "developer"),
            ("dave", "approver"),
        ]:
            grant(ws, user, role)
        grant(ws, "erin", "viewer")
        tokens = {
            user: issue_token(ws, user, role).token
            for user, role in [
                ("carol", "developer"),
                ("frank", "developer"),
                ("dave", "approver"),
                ("erin", "viewer"),
            ]
        }
    finally:
        ws.close()
    port = free_port()
    argv = [sys.executable, "-m", "assay", "server", "--port", str(port), "--auth", "token"]
    server = subprocess.Popen(
        argv, env=env, cwd=server_home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the team server did not start"
            time.sleep(0.2)
        yield Team(url, tokens, folder, settings)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
        next(urls, None)


def test_sesame_is_trained_approved_and_promoted_through_the_server(team: Team) -> None:
    trained = team("carol", "run", str(SESAME), "--json")
    assert trained.code == 0, trained.err
    result = json.loads(trained.out)
    assert result["gates"] == {"sesame@1": {"passed": True, "failed": []}}
    shown = json.loads(team("erin", "runs", "show", result["run_id"], "--json").out)
    assert shown["user"] == "carol" and shown["status"] == "succeeded"

    requested = team("carol", "models", "request-promotion", "sesame@1", "--comment", "v1")
    assert requested.code == 0, requested.err
    self_review = team("carol", "models", "approve", "sesame@1", "--comment", "mine")
    assert self_review.code == 1 and "needs the approver role" in self_review.err
    refused = team("erin", "models", "promote", "sesame@1", "--to", "production")
    assert refused.code == 1 and "erin" in refused.err
    approved = team("dave", "models", "approve", "sesame@1", "--comment", "card and gates read")
    assert approved.code == 0, approved.err
    promoted = team("carol", "models", "promote", "sesame@1", "--to", "production")
    assert promoted.code == 0, promoted.err

    today = dt.datetime.now(dt.UTC).date().isoformat()
    answer = team("erin", "models", "history", "sesame", "--alias", "production", "--at", today)
    assert answer.code == 0, answer.err
    assert "sesame@production was version 1" in answer.out
    assert "by carol" in answer.out and "approved by dave" in answer.out
    again = json.loads(team("frank", "run", str(SESAME), "--json").out)  # the team's cache
    assert [s["status"] for s in again["steps"]].count("cached") == len(again["steps"]) - 1

    verified = team("erin", "audit", "verify")
    assert verified.code == 0, verified.err
    assert "audit chain verified" in verified.out

    # Only the server's machine holds a database or an audit key; every change was made
    # through the API, as who authenticated.
    for who in ("carol", "frank", "dave", "erin"):
        laptop = team.folder / who
        assert not list(laptop.rglob("*.db")) and not (laptop / "state").exists()
    ws = open_workspace(team.settings, create=False)
    try:
        actors = {e.actor for e in ws.metadata.audit_events()}
    finally:
        ws.close()
    # ann set the team up; erin changed nothing
    assert actors == {"ann", "carol", "dave", "frank"}
