"""The team server's promise end to end: `assay server` as a process with a real OpenID
provider beside it; alice (developer) signs on through the provider from `assay login` and
asks to promote the version she trained, her own approval is refused, bob (approver) signs on
and approves, alice promotes; the history names both with the identities the provider
vouched for, the audit chain verifies, and the ASSAY_USER=bob on alice's machine changes
nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import assay
from assay import Settings
from assay.governance import grant
from assay.workspace import open_workspace
from tests.cli.conftest import Result, run_subprocess
from tests.governed import toy, write_project
from tests.identity import free_port, identity_provider, log_in
from tests.waiting import wait_until

PEOPLE = {
    "alice-sub": {"preferred_username": "alice", "groups": ["ml-devs"]},
    "bob-sub": {"preferred_username": "bob", "groups": ["ml-approvers"]},
}


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        {
            "ASSAY_HOME": str(tmp / "project"),
            "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CONFIG_HOME": str(tmp / "config-server"),
            **extra,
        }
    )
    return env


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclasses.dataclass
class Served:
    url: str
    issuer: str
    tmp: Path

    def person(self, name: str) -> dict[str, str]:
        """The environment of ``name``'s machine: their own config folder, and an
        ASSAY_USER that claims to be someone else."""
        liar = {"alice": "bob", "bob": "alice"}[name]
        return _env(self.tmp, XDG_CONFIG_HOME=str(self.tmp / f"config-{name}"), ASSAY_USER=liar)

    def assay(self, name: str, *args: str) -> Result:
        return run_subprocess([*args, "--server", self.url], self.tmp, self.person(name))

    def sign_on(self, name: str) -> Result:
        """``assay login`` on ``name``'s machine, with a browser clicking through."""
        login = subprocess.Popen(
            [sys.executable, "-m", "assay", "login", "--server", self.url, "--no-browser"],
            cwd=self.tmp,
            env=self.person(name),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert login.stderr is not None
            line = login.stderr.readline()
            assert line.startswith("log in at: "), line
            address = line.removeprefix("log in at: ").strip()
            to_provider = httpx.get(address, follow_redirects=False, timeout=30)
            assert to_provider.status_code == 302, to_provider.text
            callback = log_in(to_provider.headers["location"], f"{name}-sub")
            to_cli = httpx.get(callback, follow_redirects=False, timeout=30)
            assert to_cli.status_code == 302, to_cli.text
            assert to_cli.headers["location"].startswith("http://127.0.0.1:")
            done = httpx.get(to_cli.headers["location"], timeout=30)
            assert done.status_code == 200 and "Signed on" in done.text
            out, err = login.communicate(timeout=60)
        finally:
            if login.poll() is None:
                login.kill()
                login.wait()
        return Result(login.returncode, out, err)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = dataclasses.replace(
        Settings.for_project(tmp_path / "project", user="ann"),
        audit_home=str(tmp_path / "state" / "assay"),
    )
    ann = open_workspace(settings)
    try:
        grant(ann, "ann", "admin")
        # alice trains on the store (issue 16 routes that through the server too).
        grant(ann, "alice", "developer")
    finally:
        ann.close()
    alice = open_workspace(settings.as_user("alice"))
    try:
        policy, card = write_project(tmp_path / "project" / "toy")
        assay.run(toy, {"policy": policy, "card": card}, workspace=alice)
    finally:
        alice.close()
    with identity_provider(PEOPLE) as issuer:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assay",
                "server",
                "--auth",
                "oidc",
                "--port",
                str(port),
                "--oidc-issuer",
                issuer,
                "--oidc-client-id",
                "assay",
                "--oidc-role",
                "ml-devs=developer",
                "--oidc-role",
                "ml-approvers=approver",
            ],
            cwd=tmp_path,
            env=_env(tmp_path, ASSAY_USER="ann", ASSAY_OIDC_CLIENT_SECRET="s3cret"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: _answers(url) or server.poll() is not None,
                timeout=60,
                message="the team server did not start",
            )
            assert server.poll() is None, server.communicate()[1]
            yield Served(url, issuer, tmp_path)
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_four_eyes_against_who_signed_on(served: Served) -> None:
    alice = served.sign_on("alice")
    assert alice.code == 0, alice.err
    assert f"logged in to {served.url} as alice (oidc; roles: developer)" in alice.out
    kept = served.tmp / "config-alice" / "assay" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "assay_session_" in kept.read_text()

    asked = served.assay("alice", "models", "request-promotion", "toy@1", "--comment", "ready")
    assert asked.code == 0, asked.err
    # alice's ASSAY_USER says bob: the server knows better, and she is no approver.
    own = served.assay("alice", "models", "approve", "toy@1", "--comment", "mine")
    assert own.code != 0
    assert "alice may not approve" in own.err and "approver" in own.err

    bob = served.sign_on("bob")
    assert bob.code == 0, bob.err
    approved = served.assay("bob", "models", "approve", "toy@1", "--comment", "checked")
    assert approved.code == 0, approved.err
    assert "request is approved" in approved.out

    moved = served.assay("alice", "models", "promote", "toy@1", "--reason", "go")
    assert moved.code == 0, moved.err
    assert "toy@production: none -> 1 (by alice)" in moved.out

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    told = served.assay(
        "bob", "models", "history", "toy", "--alias", "production", "--at", tomorrow
    )
    assert told.code == 0, told.err
    assert f"by alice [OpenID Connect: alice-sub at {served.issuer}]" in told.out
    assert f"approved by bob [OpenID Connect: bob-sub at {served.issuer}]" in told.out

    verified = served.assay("alice", "audit", "verify")
    assert verified.code == 0, verified.err
    assert "audit chain verified" in verified.out

    logged_out = run_subprocess(
        ["logout", "--server", served.url], served.tmp, served.person("alice")
    )
    assert logged_out.code == 0 and "logged out" in logged_out.out
    after = served.assay("alice", "models", "request-promotion", "toy@1")
    assert after.code == 3, after.err  # AuthenticationError: no credential for this server
