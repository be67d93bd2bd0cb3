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
from typing import Any

import pandas as pd
import pytest

import assay
from assay.client import Credential, save
from assay.governance import issue_token
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.workspace import open_workspace
from tests.cli.conftest import Invoke
from tests.governed import toy
from tests.server.api.conftest import team_store
from tests.server.api.monitored import monitor


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Invoke
) -> Iterator[tuple[str, dict[str, str]]]:
    """The team server over a team's store (the current environment points at that store
    too), and each member's token. Carol trained toy@1 (gates passed) and toy@2 (failed);
    toy@1 is monitored, with an open alert and a retraining."""
    settings = team_store(tmp_path)
    carol = open_workspace(settings.as_user("carol"))
    try:
        folder = tmp_path / "project" / "toy"
        files = {"policy": folder / "policy.yaml", "card": folder / "model_card.yaml"}
        assay.run(toy, {**files, "quality": 0.6}, workspace=carol)
    finally:
        carol.close()
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "project"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    ws = open_workspace(settings)
    tokens = {
        user: issue_token(ws, user, role).token
        for user, role in [("ann", "admin"), ("bob", "approver"), ("carol", "developer")]
    }
    monitor(ws)
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
    assert (
        "carol may not approve or reject promotions" in there.err and "approver role" in there.err
    )
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
    refused = cli("monitor", "check", "toy@1", "--server", url)  # it writes windows
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


def _same(cli: Invoke, url: str, *args: str) -> None:
    here = cli(*args)
    there = cli(*args, "--server", url)
    assert (there.code, there.out, there.err) == (here.code, here.out, here.err), args


def test_what_is_read_is_the_same_through_a_server(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tokens = served
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    monkeypatch.setenv("ASSAY_USER", "carol")
    runs = [r["id"] for r in json.loads(cli("runs", "list", "--json").out)]
    model = json.loads(cli("models", "show", "toy@1", "--json").out)["version"]
    digest = model["digest"]
    for args in [
        ("runs", "show", runs[0]),
        ("runs", "show", runs[-1][:10], "--json"),
        ("runs", "compare", *runs),
        ("runs", "compare", runs[0][:8], runs[1], "--json"),
        ("artifacts", "show", digest),
        ("artifacts", "show", digest[:10], "--verify", "--json"),
        ("lineage", "toy@1"),
        ("lineage", "toy@2", "--json"),
        ("lineage", digest[:12], "--down"),
        ("lineage", digest, "--down", "--json"),
        ("models", "show", "toy@1"),
        ("models", "show", "toy@2", "--json"),
        ("models", "show", "toy"),
        ("monitor", "alerts"),
        ("monitor", "alerts", "--model", "toy", "--status", "open", "--json"),
        ("monitor", "retrains"),
        ("monitor", "retrains", "--model", "toy", "--json"),
    ]:
        _same(cli, url, *args)

    # Refusals: the same exit code and message.
    for args in [
        ("runs", "show", "nosuchrun"),
        ("runs", "compare", runs[0], "nosuchrun"),
        ("runs", "compare", runs[0]),
        ("runs", "export", "-O", "runs.txt"),
        ("runs", "export", "-O", "runs.csv", "--where", "metrics.nosuch > 1"),
        ("artifacts", "show", "0" * 64),
        ("lineage", "toy@9"),
        ("lineage", "toy@x y"),
        ("models", "show", "toy@9"),
        ("models", "show", "toy@staging"),
        ("models", "show", "nosuch@1"),
        ("report", "toy@9"),
        ("report", "toy@1", "--format", "pdf"),
        ("monitor", "alerts", "--model", "nosuch"),
        ("monitor", "alerts", "--status", "shut"),
        ("monitor", "retrains", "--model", "nosuch"),
        ("monitor", "report", "toy@9"),
        ("monitor", "report", "toy", "--since", "yesterday"),
        ("monitor", "close", "99"),
    ]:
        here = cli(*args)
        there = cli(*args, "--server", url)
        assert there.code == here.code != 0, (args, here.err, there.err)
        assert there.err == here.err, args


def test_files_written_through_a_server_hold_the_same(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, tokens = served
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    monkeypatch.setenv("ASSAY_USER", "carol")
    for args, read in [
        (("runs", "export", "-O", "runs.csv"), Path.read_bytes),
        (("runs", "export", "-o", "-started_at", "--limit", "1", "-O", "runs.parquet"),
         pd.read_parquet),
        (("report", "toy@1", "--format", "json", "-o", "evidence.json"), _evidence),
        (("report", "toy@1", "--no-verify", "-o", "evidence.html"), _page),
        (("monitor", "report", "toy@1", "-o", "monitor.html"), _page),
        (("monitor", "report", "toy", "--since", "2000-01-01", "-o", "monitor.html"), _page),
        (("monitor", "report", "toy@1", "--all-versions", "-o", "monitor.html"), _page),
    ]:  # fmt: skip
        here = cli(*args)
        written = read(tmp_path / args[-1])
        there = cli(*args, "--server", url)
        assert (there.code, there.out, there.err) == (here.code, here.out, here.err), args
        assert here.code == 0, here.err
        again = read(tmp_path / args[-1])
        if isinstance(written, pd.DataFrame):
            pd.testing.assert_frame_equal(again, written)
        else:
            assert again == written, args


def test_an_alert_closed_through_a_server(
    served: tuple[str, dict[str, str]], cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tokens = served
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    monkeypatch.setenv("ASSAY_USER", "carol")
    alert = json.loads(cli("monitor", "alerts", "--json").out)[0]
    _same(cli, url, "monitor", "close", str(alert["id"]))  # no reason: refused alike
    closed = cli("monitor", "close", str(alert["id"]), "--reason", "retrained", "--server", url)
    assert closed.code == 0, closed.err
    assert closed.out.strip() == f"closed alert {alert['id']} (drift on toy@1)"
    assert json.loads(cli("monitor", "alerts", "--json").out)[0]["status"] == "closed"
    _same(cli, url, "monitor", "close", str(alert["id"]), "--reason", "again")  # not open


def _evidence(path: Path) -> dict[str, Any]:
    # Each report says when it was made, and when it checked the audit chain.
    found: dict[str, Any] = json.loads(path.read_text())
    assert found.pop("generated_at") > 0
    assert found["is_it_compliant"]["audit"].pop("verified_at") > 0
    return found


def _page(path: Path) -> bool:
    return path.read_text().startswith("<!DOCTYPE html>")


class _Lines:
    """A standard input holding one line."""

    def __init__(self, line: str) -> None:
        self.line = line + "\n"

    def readline(self) -> str:
        line, self.line = self.line, ""
        return line


def test_a_pipeline_runs_here_and_is_recorded_through_the_server(
    served: tuple[str, dict[str, str]],
    cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url, tokens = served
    laptop = tmp_path / "laptop"
    monkeypatch.setenv("ASSAY_HOME", str(laptop))  # no store here: only a cache of bytes
    monkeypatch.setenv("ASSAY_TOKEN", tokens["carol"])
    folder = tmp_path / "project" / "toy"
    args = [
        "--param",
        f"policy={folder / 'policy.yaml'}",
        "--param",
        f"card={folder / 'model_card.yaml'}",
    ]
    ran = cli("run", "tests.governed:toy", *args, "--param", "weight=7", "--json", "--server", url)
    assert ran.code == 0, ran.err
    result = json.loads(ran.out)
    assert result["status"] == "succeeded"
    (model,) = result["models"]
    assert result["gates"][model]["passed"] is True
    shown = cli("runs", "show", result["run_id"], "--json", "--server", url)
    assert json.loads(shown.out)["user"] == "carol"
    again = json.loads(
        cli(
            "run", "tests.governed:toy", *args, "--param", "weight=7", "--json", "--server", url
        ).out
    )
    assert [s["status"] for s in again["steps"]].count("cached") == len(again["steps"]) - 1
    assert not (laptop / ".assay" / "assay.db").exists()
