"""A store's audit anchors follow its chain, not its path: a moved or copied project keeps
working, a project started over verifies clean, and a missing key is named."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from assay import Settings
from assay.anchor import Checkpoint, SigningKey
from assay.anchor.checkpoints import checkpoint_message
from assay.audit import verify_chain
from assay.workspace import open_workspace
from tests.cli.conftest import Result, run_main, run_subprocess

TINY = """
from assay import pipeline, step


@step
def count(n: int = 3) -> dict[str, int]:
    return {"n": n}


@pipeline
def tiny(n: int = 3) -> None:
    count(n)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a one-step pipeline, as the current directory."""
    folder = tmp_path / "project"
    (folder / "tiny").mkdir(parents=True)
    (folder / "tiny" / "pipeline.py").write_text(textwrap.dedent(TINY))
    for key in list(os.environ):
        if key.startswith("ASSAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSAY_USER", "alice")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(folder)
    return folder


def assay(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return run_main(capsys, *args)


def chain_key(capsys: pytest.CaptureFixture[str]) -> str:
    exported = assay(capsys, "audit", "export")
    assert exported.code == 0, exported.err
    return str(json.loads(exported.out.splitlines()[0])["key_id"])


def test_a_copied_project_keeps_working(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert assay(capsys, "run", "tiny").code == 0
    copy = project.parent / "project-copy"
    shutil.copytree(project, copy)
    monkeypatch.chdir(copy)
    changed = assay(capsys, "run", "tiny", "--param", "n=4")
    assert changed.code == 0, changed.err
    verified = assay(capsys, "audit", "verify")
    assert verified.code == 0, verified.out + verified.err
    assert "audit chain verified" in verified.out
    # The copy is the same chain: the original now lacks events that were checkpointed,
    # which is what a store rolled back to a backup looks like, and is reported so.
    monkeypatch.chdir(project)
    stale = assay(capsys, "audit", "verify")
    assert stale.code == 1 and "checkpointed but is no longer in the store" in stale.err


def test_a_moved_project_keeps_working(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert assay(capsys, "run", "tiny").code == 0
    moved = project.parent / "project-moved"
    monkeypatch.chdir(project.parent)
    shutil.move(project, moved)
    monkeypatch.chdir(moved)
    granted = assay(capsys, "users", "grant", "bob", "viewer")
    assert granted.code == 0, granted.err
    verified = assay(capsys, "audit", "verify")
    assert verified.code == 0, verified.out + verified.err


def test_starting_over_in_the_same_folder_verifies(project: Path) -> None:
    # Real processes: this one keeps its database engine, which would outlive `rm -rf`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")} | {
        "ASSAY_USER": "alice"
    }
    assert run_subprocess(["run", "tiny"], project, env).code == 0
    assert run_subprocess(["run", "tiny", "--param", "n=5"], project, env).code == 0
    shutil.rmtree(project / ".assay")
    assert run_subprocess(["run", "tiny"], project, env).code == 0
    verified = run_subprocess(["audit", "verify"], project, env)
    assert verified.code == 0, verified.out + verified.err


def test_a_missing_key_names_its_id_and_where_assay_looked(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert assay(capsys, "run", "tiny").code == 0
    key_id = chain_key(capsys)
    elsewhere = tmp_path / "other-machine"
    monkeypatch.setenv("XDG_STATE_HOME", str(elsewhere))  # a machine without the key
    refused = assay(capsys, "run", "tiny", "--param", "n=6")
    assert refused.code == 1
    assert key_id in refused.err and str(elsewhere / "assay" / "keys") in refused.err
    assert "Traceback" not in refused.err
    verify = assay(capsys, "audit", "verify")
    assert verify.code == 1
    assert key_id in verify.err and str(elsewhere / "assay" / "keys") in verify.err
    assert "creates it" not in verify.err
    explicit = tmp_path / "vault" / "signing.key"
    monkeypatch.setenv("ASSAY_AUDIT_KEY", str(explicit))
    verify = assay(capsys, "audit", "verify")
    assert verify.code == 1
    assert key_id in verify.err and str(explicit) in verify.err
    assert "creates it" not in verify.err


def legacy_store(settings: Settings) -> Settings:
    """A store as earlier versions of assay left it: its key and checkpoints in a folder of
    the state directory named after the database URL, checkpoints naming no chain."""
    home = Path(settings.audit_home)
    folder = home / "audit" / hashlib.sha256(settings.db_url.encode()).hexdigest()[:16]
    old = dataclasses.replace(
        settings,
        audit_key=str(folder / "signing.key"),
        audit_checkpoints=str(folder / "checkpoints.jsonl"),
    )
    ws = open_workspace(old)
    try:
        ws.metadata.grant_role("alice", "admin", "alice", only_if_first=True)
        ws.metadata.grant_role("bob", "viewer", "alice")
    finally:
        ws.close()
    key = SigningKey.load(folder / "signing.key")
    log = folder / "checkpoints.jsonl"
    unnamed = []
    for line in log.read_text().splitlines():
        cp = Checkpoint(**json.loads(line))
        message = checkpoint_message(cp.seq, cp.hash)
        unnamed.append(dataclasses.replace(cp, chain="", signature=key.sign(message)))
    log.write_text("".join(json.dumps(dataclasses.asdict(cp)) + "\n" for cp in unnamed))
    return settings


def test_a_store_anchored_by_an_earlier_version_keeps_working(
    settings: Settings, tmp_path: Path
) -> None:
    legacy_store(settings)
    ws = open_workspace(settings)  # the default settings now: keyring and per-chain logs
    try:
        assert verify_chain(ws).ok
        ws.metadata.grant_role("carol", "viewer", "alice")
        report = verify_chain(ws)
        assert report.ok, report.problems
        assert (report.events, report.checkpoints) == (3, 3)
    finally:
        ws.close()
    assert not (Path(settings.audit_home) / "keys").exists()  # the private key is not copied
    # Moved, too: its old folder is named after the old URL, and is found by the key's id.
    shutil.copytree(tmp_path / ".assay", tmp_path / "moved" / ".assay")
    moved = open_workspace(Settings.for_project(tmp_path / "moved", user="alice"))
    try:
        moved.metadata.grant_role("dan", "viewer", "alice")
        report = verify_chain(moved)
        assert report.ok, report.problems
    finally:
        moved.close()


def test_a_store_with_no_events_verifies_without_a_key(settings: Settings) -> None:
    ws = open_workspace(settings)
    try:
        report = verify_chain(ws)
    finally:
        ws.close()
    assert report.ok and report.events == 0 and report.key_id == ""
    assert not (Path(settings.audit_home) / "keys").exists()


def test_explicit_anchors_keep_working(settings: Settings, tmp_path: Path) -> None:
    vault = Settings.from_env(
        {"ASSAY_AUDIT_DIR": str(tmp_path / "vault"), "ASSAY_USER": "alice"},
        project_dir=tmp_path,
    )
    ws = open_workspace(vault)
    try:
        ws.metadata.grant_role("alice", "admin", "alice", only_if_first=True)
        assert verify_chain(ws).ok
    finally:
        ws.close()
    assert sorted(p.name for p in (tmp_path / "vault").iterdir()) == [
        "checkpoints.jsonl",
        "signing.key",
        "signing.pub",
    ]
    assert not (Path(settings.audit_home) / "keys").exists()


def test_a_second_chain_with_one_explicit_key_and_log_is_reported(tmp_path: Path) -> None:
    # What starting over with the same ASSAY_AUDIT_DIR looks like: the key's checkpoints of
    # the first chain are still there, and cannot be told from a rewrite from event 1 on.
    env = {"ASSAY_AUDIT_DIR": str(tmp_path / "vault"), "ASSAY_USER": "alice"}
    for project in ("first", "second"):
        ws = open_workspace(Settings.from_env(env, project_dir=tmp_path / project))
        try:
            if project == "second":
                report = verify_chain(ws)
                assert [str(p) for p in report.problems] == [
                    "the store has no audit events, but checkpoints outside it name events up to 1"
                ]
            ws.metadata.grant_role("alice", "admin", "alice", only_if_first=True)
            report = verify_chain(ws)
        finally:
            ws.close()
    assert len(report.problems) == 1
    assert "also signed checkpoints of another chain" in str(report.problems[0])
