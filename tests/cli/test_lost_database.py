"""A store that lost its database refuses to start over silently, and starts over on
purpose, audited, when told to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli.conftest import SIZED_PIPELINE, Invoke, Result, run_subprocess

# Real processes: one process's pooled connection would still hold the old database open.


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "pipeline.py").write_text(SIZED_PIPELINE)
    return tmp_path


@pytest.fixture
def cli(project: Path, cli_env: dict[str, str]) -> Invoke:
    def invoke(*args: str) -> Result:
        return run_subprocess(list(args), project, cli_env)

    return invoke


def _lose_database(project: Path) -> None:
    db = project / ".assay" / "assay.db"
    for extra in (db.with_name("assay.db-wal"), db.with_name("assay.db-shm")):
        extra.unlink(missing_ok=True)
    db.write_bytes(b"")  # what a full disk, a bad copy or a stray `> assay.db` leaves


def _events(project: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{project / '.assay' / 'assay.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() or 0)
    finally:
        engine.dispose()


def test_a_lost_database_is_not_replaced_by_a_new_chain(cli: Invoke, project: Path) -> None:
    assert cli("run", "text/pipeline.py").code == 0
    _lose_database(project)
    listed = cli("runs", "list")
    assert listed.code == 1 and "no assay store" in listed.err  # read-only: nothing made
    result = cli("run", "text/pipeline.py")
    assert result.code == 1, result.out
    message = result.err.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert "has no audit events, but the artifact store" in message
    assert "belongs to the audit chain of key" in message and "checkpointed up to event" in message
    assert "`assay audit new-chain --reason TEXT`" in message
    assert _events(project) == 0  # nothing was written over the old chain's artifacts
    verified = cli("audit", "verify")
    assert verified.code == 1
    assert "the database has no audit events, but the artifact store belongs to" in verified.out


def test_a_new_chain_begun_on_purpose_records_the_old_one(cli: Invoke, project: Path) -> None:
    assert cli("run", "text/pipeline.py").code == 0
    before = cli("audit", "verify", "--json")
    old = json.loads(before.out)
    _lose_database(project)
    refused = cli("audit", "new-chain", "--reason", "  ")
    assert refused.code == 1 and "needs a reason" in refused.err
    started = cli("audit", "new-chain", "--reason", "the disk died; no backup", "--json")
    assert started.code == 0, started.err
    record = json.loads(started.out)
    assert record["reason"] == "the disk died; no backup"
    assert record["previous"]["key_id"] == old["key_id"]
    assert record["previous"]["checkpoint"]["seq"] == old["head"]["seq"]
    assert cli("run", "text/pipeline.py").code == 0
    after = cli("audit", "verify")
    assert after.code == 0, after.out + after.err
    again = cli("audit", "new-chain", "--reason", "twice")
    assert again.code == 1 and "a new chain begins only on a database that holds none" in again.err


def test_starting_over_with_the_whole_store_gone_needs_no_new_chain(
    cli: Invoke, project: Path
) -> None:
    assert cli("run", "text/pipeline.py").code == 0
    shutil.rmtree(project / ".assay")
    assert cli("run", "text/pipeline.py").code == 0
    assert cli("audit", "verify").code == 0
