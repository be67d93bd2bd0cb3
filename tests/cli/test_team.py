"""`assay tokens` and `assay server`: a token printed once and alone on stdout, listed and
revoked; the server as a process, answering only authenticated requests beyond its local
admin, refusing to listen beyond loopback unauthenticated, and stopping cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.conftest import Invoke, Result, run_subprocess
from tests.cli.test_serve import free_port


def test_tokens_are_created_listed_and_revoked(cli: Invoke) -> None:
    assert cli("init").code == 0
    created = cli("tokens", "create", "--role", "admin", "--note", "laptop")
    assert created.code == 0, created.err
    token = created.out.strip()
    assert token.startswith("assay_") and "\n" not in token  # alone on stdout
    assert "shown only now" in created.err
    listed = cli("tokens", "list", "--json")
    (found,) = json.loads(listed.out)
    assert found["user"] == "alice" and found["role"] == "admin" and found["note"] == "laptop"
    assert "secret_sha256" not in found and token not in listed.out
    bob = cli("tokens", "create", "--role", "viewer", "--user", "bob")  # alice is admin
    assert bob.code == 0 and bob.out.startswith("assay_")
    as_bob = cli_as("bob", cli, "tokens", "create", "--role", "viewer", "--user", "alice")
    assert as_bob.code == 1 and "that needs the admin role" in as_bob.err
    revoked = cli("tokens", "revoke", found["id"])
    assert revoked.code == 0 and f"token {found['id']} of alice revoked by alice" in revoked.out
    mine = json.loads(cli("tokens", "list", "--json").out)
    assert [t["revoked_by"] for t in mine] == ["alice"]


def cli_as(user: str, cli: Invoke, *args: str) -> Result:
    os.environ["ASSAY_USER"] = user
    try:
        return cli(*args)
    finally:
        os.environ["ASSAY_USER"] = "alice"


def test_bad_token_requests_are_one_line_errors(cli: Invoke) -> None:
    assert cli("init").code == 0
    for args, needle in [
        (["tokens", "create", "--role", "root"], "unknown role 'root'"),
        (["tokens", "revoke", "0123456789ab"], "no token '0123456789ab'"),
        (["tokens", "create", "--role", "viewer", "--days", "999"], "Invalid value for '--days'"),
    ]:
        result = cli(*args)
        assert result.code != 0 and needle in result.err, (args, result.err)
        assert "Traceback" not in result.err


def test_the_server_refuses_to_listen_beyond_loopback_unauthenticated(
    project: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(project), "ASSAY_USER": "alice"})
    assert run_subprocess(["init"], project, env).code == 0
    refused = run_subprocess(["server", "--host", "0.0.0.0"], project, env)
    assert refused.code == 2
    assert "no authentication" in refused.err and "--auth token" in refused.err
    assert "Traceback" not in refused.err


def test_the_server_answers_its_local_admin_and_token_holders_then_stops(
    project: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(project), "ASSAY_USER": "alice"})
    assert run_subprocess(["init"], project, env).code == 0
    token = run_subprocess(["tokens", "create", "--role", "admin"], project, env).out.strip()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "server", "--port", str(port), "--auth", "token"],
        env=env, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert httpx.get(f"{url}/whoami").status_code == 401
        me = httpx.get(f"{url}/whoami", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["user"] == "alice" and me["via"]["kind"] == "token"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.startswith(f"assay team server on http://127.0.0.1:{port}/api/v1")
    assert "Traceback" not in err
