"""The command line through a team server: the same output and exit codes as on the store
itself, who acts is who the credential names (not ASSAY_USER), `assay login --token` keeps
a credential only its owner reads, and a command that cannot work through a server says so
instead of quietly opening a store here."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.client import Credential, save
from assay.governance import issue_token
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.workspace import open_workspace
from tests.cli.conftest import Invoke
from tests.server.api.conftest import team_store


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Invoke
) -> Iterator[tuple[str, dict[str, str]]]:
    """The team server over a team's store (the current environment points at that store
    too), and each member's token."""
    settings = team_store(tmp_path)
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "project"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    ws = open_workspace(settings)
    tokens = {
        user: issue_token(ws, user, role).token
        for user, role in [("ann", "admin"), ("bob", "approver"), ("carol", "developer")]
    }
    try:
        with team_serving(ws, TeamOptions(auth="token")) as (url, _):
            yield url, tokens
    finally:
        ws.close()


def test_login_with_a_token_keeps_it_for_its_owner_only(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, tokens = served
    monkeypatch.setattr("sys.stdin", _Lines(tokens["carol"]))
    done = cli("login", "--server", url, "--token")
    assert done.code == 0, done.err
    assert f"logged in to {url} as carol (token; roles: developer)" in done.out
    kept = tmp_path / "config" / "assay" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert json.loads(kept.read_text())[url]["user"] == "carol"

    # ASSAY_USER says ann (an admin): the server acts as carol, whose token it is.
    monkeypatch.setenv("ASSAY_USER", "ann")
    refused = cli("users", "grant", "carol", "admin", "--server", url)
    assert refused.code != 0
    assert "carol may not grant roles" in refused.err

    monkeypatch.setattr("sys.stdin", _Lines("assay_000000000000_" + "x" * 43))
    bad = cli("login", "--server", url, "--token")
    assert bad.code == 3 and "token" in bad.err
    assert json.loads(kept.read_text())[url]["user"] == "carol"  # the good one is kept


def test_the_same_answers_and_exit_codes_as_on_the_store(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tokens = served
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    asked = cli("models", "request-promotion", "toy@1", "--comment", "ready", "--server", url)
    assert asked.code == 0, asked.err
    assert asked.out.startswith("requested toy@1 -> production")
    monkeypatch.setenv("ASSAY_TOKEN", tokens["bob"])
    assert cli("models", "approve", "toy@1", "--comment", "ok", "--server", url).code == 0
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    moved = cli("models", "promote", "toy@1", "--server", url)
    assert moved.out.strip() == "toy@production: none -> 1 (by carol)"

    for args in [
        ("users", "list", "--json"),
        ("models", "history", "toy", "--json"),
        ("models", "history", "toy", "--alias", "production", "--at", "2999-01-01", "--json"),
        ("tokens", "list", "--json"),
        ("runs", "list", "--json"),
        ("models", "list"),
        ("models", "list", "toy", "--all", "--json"),
        ("runs", "list", "--all", "--where", "status = 'completed'", "--order-by", "-started_at"),
        ("runs", "list", "--limit", "1", "--where", "metrics.accuracy >= 0"),
    ]:
        monkeypatch.setenv("ASSAY_USER", "carol")
        here = cli(*args)
        there = cli(*args, "--server", url)
        assert (there.code, there.out, there.err) == (here.code, here.out, here.err), args
    history = json.loads(cli("models", "history", "toy", "--json", "--server", url).out)
    assert history[0]["via"]["kind"] == "token"
    assert history[0]["identified"].startswith("API token ")

    # Refusals: the same exit code (and message) as on the store itself; carol's token
    # carries the developer role, which the refusal names where her declared self did not.
    here = cli("models", "approve", "toy@1", "--comment", "mine")
    there = cli("models", "approve", "toy@1", "--comment", "mine", "--server", url)
    assert there.code == here.code != 0
    assert "carol may not approve or reject promotions" in there.err and "approver role" in there.err
    for args in [
        ("models", "promote", "toy@9"),  # no such version
        ("models", "rollback", "toy", "--reason", "r"),  # nothing to roll back to
    ]:
        here = cli(*args)
        there = cli(*args, "--server", url)
        assert there.code == here.code != 0, (args, here.err, there.err)
        assert there.err == here.err, args

    verified = cli("audit", "verify", "--server", url)
    assert verified.code == 0 and "audit chain verified" in verified.out


def test_what_cannot_work_through_a_server_says_so(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, tokens = served
    refused = cli("runs", "show", "x", "--server", url)
    assert refused.code == 2
    assert "this command works on the store itself, not through the team server" in refused.err
    unreachable = cli("users", "list", "--server", "http://127.0.0.1:9")
    assert unreachable.code == 2 and "cannot be reached" in unreachable.err
    assert cli("logout", "--server", url).out.strip() == f"no credential was kept for {url}"
    save(str(tmp_path / "config" / "assay"), Credential(url, tokens["ann"], "ann", time.time() - 1))
    expired = cli("users", "list", "--server", url)
    assert expired.code == 3 and "has expired" in expired.err
    nowhere = cli("login")
    assert nowhere.code == 2 and "--server" in nowhere.err


class _Lines:
    """A standard input holding one line."""

    def __init__(self, line: str) -> None:
        self.line = line + "\n"

    def readline(self) -> str:
        line, self.line = self.line, ""
        return line
