"""The audit chain covers what it claims: a store attacked as someone with write access to
its database (or its artifact folder) would, and every edit caught by verify and, where a
decision rests on it, refused when that decision is taken."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import assay
from assay import Settings, pipeline, step
from assay.audit import verify_chain
from assay.chain import TABLES
from assay.errors import TamperedError
from assay.governance import (
    grant,
    issue_token,
    promote,
    request_promotion,
    review,
    revoke_token,
)
from assay.metadata import AlertDraft, RetrainRecord, WindowRecord
from assay.metadata import schema as t
from assay.workspace import Workspace, open_workspace
from tests.governed import promoted_toy, toy, write_project


@step
def count_files(folder: Path) -> dict[str, int]:
    return {"files": sum(1 for p in folder.iterdir() if p.is_file())}


@pipeline
def read_folder(folder: Path) -> None:
    count_files(folder)


def _build(root: Path) -> Settings:
    # Every table the chain records gets rows: two runs of the governed toy (toy@1 promoted
    # to production after a review, toy@2 failing its gates), a run reading a folder, an
    # alert raised and closed, a retraining started and finished, and two tokens (one
    # revoked).
    settings = dataclasses.replace(
        Settings.for_project(root / "project", user="alice"), audit_home=str(root / "state")
    )
    alice = promoted_toy(settings, root / "project" / "toy")
    try:
        policy, card = write_project(root / "project" / "toy")
        failing = {"policy": policy, "card": card, "quality": 0.3, "weight": 2.0}
        assay.run(toy, failing, workspace=alice)
        data = root / "project" / "data"
        data.mkdir()
        (data / "a.txt").write_text("first file\n")
        (data / "b.txt").write_text("second file\n")
        assay.run(read_folder, {"folder": data}, workspace=alice)
        window = WindowRecord("toy", 1, "drift", 0.0, 1.0, 50, "drift", {"tests": []})
        draft = AlertDraft("toy", 1, "drift", "f" * 64, "text length drifted", {"p": 0.001})
        _, alert, _ = alice.metadata.record_window(window, draft)
        assert alert is not None
        alice.metadata.close_alert(alert.id, "alice", "looked into it")
        started = alice.metadata.start_retrain(
            RetrainRecord("toy", "alert", {"alert": alert.id}, "alice")
        )
        alice.metadata.finish_retrain(started.id, status="unchanged", outcome={"why": "same"})
        issue_token(alice, "bob", "approver", note="for the review")
        revoke_token(alice, issue_token(alice, "alice", "admin").record.id)
    finally:
        alice.close()
    return settings


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("audited")
    return root, _build(root)


@pytest.fixture
def store(template: tuple[Path, Settings], tmp_path: Path) -> Settings:
    """A fresh copy of the audited store (database, artifacts, keys and checkpoints)."""
    root, _ = template
    shutil.copytree(root / "project", tmp_path / "project")
    shutil.copytree(root / "state", tmp_path / "state")
    return dataclasses.replace(
        Settings.for_project(tmp_path / "project", user="alice"),
        audit_home=str(tmp_path / "state"),
    )


@pytest.fixture
def ws(store: Settings) -> Iterator[Workspace]:
    opened = open_workspace(store)
    yield opened
    opened.close()


def _db(settings: Settings) -> sqlite3.Connection:
    # The attacker's own connection: no assay, no foreign keys checked.
    return sqlite3.connect(settings.db_url.removeprefix("sqlite:///"), isolation_level=None)


def sql(settings: Settings, statement: str, params: tuple[Any, ...] = ()) -> None:
    with _db(settings) as conn:
        conn.execute(statement, params)


def problems(ws: Workspace) -> list[str]:
    report = verify_chain(ws)
    return [str(p) for p in report.problems]


def test_the_untouched_store_verifies_and_fills_every_table(ws: Workspace) -> None:
    report = verify_chain(ws)
    assert report.ok, report.problems
    for table in TABLES:
        assert ws.metadata.sealed_rows(table), f"the fixture leaves {table} empty"


# -- an edit of each sealed column of each table -------------------------------------------

SEALED = {
    "runs": ["pipeline", "source", "experiment", "params", "git_commit", "git_dirty", "host",
             "python_version", "user", "pid", "started_at", "packages", "status", "ended_at"],
    "executions": ["run_id", "step", "function", "fingerprint", "cache_key", "status",
                   "cached_from", "params", "logged_params"],
    "events": ["digest"],
    "artifacts": ["kind", "codec", "size", "type_name", "producer"],
    "models": ["created_by"],
    "model_versions": ["digest", "codec", "run_id", "execution_id", "info", "created_by",
                       "created_at", "archived_at", "archived_by", "archive_reason"],
    "gate_verdicts": ["passed", "policy_digest", "results", "policy", "run_id",
                      "execution_id", "created_by", "created_at"],
    "role_grants": ["granted_by", "granted_at"],
    "api_tokens": ["user", "role", "secret_sha256", "note", "created_by", "created_at",
                   "expires_at", "revoked_by", "revoked_at"],
    "model_aliases": ["version", "moved_by", "moved_at"],
    "alias_moves": ["version", "previous", "moved_by", "reason", "request_id", "moved_at"],
    "promotion_requests": ["name", "version", "alias", "required", "comment", "requested_by",
                           "requested_at", "status"],
    "reviews": ["decision", "comment", "at"],
    "alerts": ["model", "version", "kind", "summary", "details", "fingerprint", "status",
               "first_at"],
    "retrains": ["model", "cause", "detail", "status", "run_id", "version", "outcome",
                 "error", "user", "started_at"],
}  # fmt: skip

# Columns compared through what is derived from them.
SHOWN_AS = {("runs", "packages"): "packages_sha256", ("model_versions", "archived_at"): "archived"}


def _changed(table: str, column: str, value: Any) -> Any:
    kind = t.metadata.tables[table].columns[column].type
    if isinstance(kind, sa.JSON):
        parsed = json.loads(value)
        return json.dumps({**parsed, "tampered": 1} if isinstance(parsed, dict) else [*parsed, 1])
    if isinstance(kind, sa.Boolean):
        return 1 if not value else 0
    if value is None:
        return "tampered"
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, float):
        return value + 1.5
    return f"{value}-tampered"


def _rowid(conn: sqlite3.Connection, table: str) -> int:
    # The newest row: one every fixture run made through the current code.
    return int(conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0])


@pytest.mark.parametrize(
    ("table", "column"),
    [pytest.param(tb, c, id=f"{tb}.{c}") for tb, cols in SEALED.items() for c in cols],
)
def test_an_edit_of_any_sealed_column_is_caught(
    store: Settings, ws: Workspace, table: str, column: str
) -> None:
    with _db(store) as conn:
        rowid = _rowid(conn, table)
        (value,) = conn.execute(
            f"SELECT {column} FROM {table} WHERE rowid = ?", (rowid,)
        ).fetchone()
        conn.execute(
            f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
            (_changed(table, column, value), rowid),
        )
    shown = SHOWN_AS.get((table, column), column)
    found = problems(ws)
    assert any(f": {table} " in p and f"column {shown} is " in p for p in found), found


@pytest.mark.parametrize("table", list(SEALED))
def test_a_deleted_row_of_any_table_is_caught(store: Settings, ws: Workspace, table: str) -> None:
    with _db(store) as conn:
        conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (_rowid(conn, table),))
    found = problems(ws)
    assert any(f": {table} " in p and "the row is gone" in p for p in found), found


@pytest.mark.parametrize("table", list(SEALED))
def test_an_inserted_row_of_any_table_is_caught(store: Settings, ws: Workspace, table: str) -> None:
    spec = t.metadata.tables[table]
    with _db(store) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(
            conn.execute(
                f"SELECT * FROM {table} WHERE rowid = ?", (_rowid(conn, table),)
            ).fetchone()
        )
        if spec.c.get("id") is not None and isinstance(row["id"], int):
            row.pop("id")  # the next number
        if not TABLES[table].numbered:  # else the copy is one more row of its group
            for column in (c for c in TABLES[table].key if c in row):
                value = row[column]
                row[column] = value + 1000 if isinstance(value, int) else f"{value}-copy"
        names = ", ".join(f'"{c}"' for c in row)
        conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    found = problems(ws)
    assert any(f"{table} " in p and "no audit event records this row" in p for p in found), found


# -- the edits that matter most, and the decisions that rest on them -----------------------


def test_a_failed_verdict_turned_to_passed_is_caught_and_never_promoted(
    store: Settings, ws: Workspace
) -> None:
    failed = ws.metadata.verdicts("toy", 2)[-1]
    assert not failed.passed
    results = [{**r, "passed": True} for r in failed.results]
    sql(
        store,
        "UPDATE gate_verdicts SET passed = 1, results = ? WHERE name = 'toy' AND version = 2",
        (json.dumps(results),),
    )
    assert any("gate_verdicts toy/2 #1: column passed is True" in p for p in problems(ws))
    head = ws.metadata.audit_head()
    with pytest.raises(TamperedError, match="gate_verdicts toy/2 #1: column passed is True"):
        request_promotion(ws, "toy@2", comment="looks fine")
    with pytest.raises(TamperedError, match="gate_verdicts toy/2"):
        promote(ws, "toy@2", "staging")
    assert ws.metadata.audit_head() == head  # nothing was written
    assert ws.metadata.alias_version("toy", "staging") is None


def test_an_inserted_admin_grants_nothing(store: Settings) -> None:
    sql(
        store,
        "INSERT INTO role_grants VALUES ('mallory', 'admin', 'alice', 1.0)",
    )
    mallory = open_workspace(store.as_user("mallory"))
    try:
        assert any("role_grants mallory/admin: no audit event" in p for p in problems(mallory))
        with pytest.raises(TamperedError, match="role_grants mallory/admin: no audit event"):
            grant(mallory, "eve", "approver")
        assert {g.user for g in mallory.metadata.role_grants()} == {"alice", "bob", "mallory"}
    finally:
        mallory.close()


def test_a_revoked_role_put_back_with_its_revocation_hidden_is_refused(
    store: Settings, ws: Workspace
) -> None:
    grant(ws, "eve", "approver")
    ws.metadata.revoke_role("eve", "approver", "alice")
    grant(ws, "frank", "viewer")  # the revocation is not the head, which is read whole
    # The attacker puts the grant back and renames the revocation's subject, so that a
    # search by subject no longer finds it.
    sql(store, "INSERT INTO role_grants VALUES ('eve', 'approver', 'alice', 1.0)")
    sql(store, "UPDATE audit_events SET subject = 'user:nobody' WHERE action = 'role.revoked'")
    eve = open_workspace(store.as_user("eve"))
    try:
        with pytest.raises(TamperedError, match="role_grants eve/approver"):
            review(eve, "toy@1", approve=True, comment="ok")
    finally:
        eve.close()


def test_edited_metrics_of_a_version_are_caught_and_refused(store: Settings, ws: Workspace) -> None:
    info = ws.metadata.model_version("toy", 2)
    assert info is not None
    forged = {**info.info, "metrics": {**info.info["metrics"], "macro_f1": 0.99}}
    sql(store, "UPDATE model_versions SET info = ? WHERE version = 2", (json.dumps(forged),))
    assert any("model_versions toy/2: column info is" in p for p in problems(ws))
    with pytest.raises(TamperedError, match="model_versions toy/2: column info"):
        promote(ws, "toy@2", "candidate")


def test_a_version_moved_to_another_run_is_caught(store: Settings, ws: Workspace) -> None:
    other = ws.metadata.list_runs(limit=None)[0].id  # the folder's run
    sql(store, "UPDATE model_versions SET run_id = ? WHERE version = 1", (other,))
    assert any("model_versions toy/1: column run_id is" in p for p in problems(ws))


def _carols_model(store: Settings, ws: Workspace) -> tuple[Workspace, str]:
    # carol, developer and approver, trains toy@3; alice asks for its promotion.
    grant(ws, "carol", "developer")
    grant(ws, "carol", "approver")
    carol = open_workspace(store.as_user("carol"))
    policy, card = write_project(Path(store.artifact_root).parents[1] / "toy")
    params = {"policy": policy, "card": card, "quality": 0.9, "weight": 3.0}
    assay.run(toy, params, workspace=carol)
    request_promotion(ws, "toy@3", comment="carol's model")
    version = ws.metadata.model_version("toy", 3)
    assert version is not None
    return carol, version.run_id


def test_a_trainer_renamed_in_the_runs_table_cannot_review_their_own_model(
    store: Settings, ws: Workspace
) -> None:
    carol, run_id = _carols_model(store, ws)
    try:
        # carol makes it look as if someone else trained it, in both places that say so.
        sql(store, "UPDATE runs SET user = 'dave' WHERE id = ?", (run_id,))
        sql(store, "UPDATE model_versions SET created_by = 'dave' WHERE version = 3")
        with pytest.raises(TamperedError, match="model_versions toy/3: column created_by"):
            review(carol, "toy@3", approve=True, comment="fine by me")
    finally:
        carol.close()


def test_a_trainer_renamed_only_in_the_runs_table_is_refused_by_the_sealed_start(
    store: Settings, ws: Workspace
) -> None:
    # The runs table is outside the sealed state: the run.started event says who ran it.
    carol, run_id = _carols_model(store, ws)
    try:
        sql(store, "UPDATE runs SET user = 'dave' WHERE id = ?", (run_id,))
        head = ws.metadata.audit_head()
        with pytest.raises(
            TamperedError, match="recorded as dave's, but the audit chain says carol"
        ):
            review(carol, "toy@3", approve=True, comment="fine by me")
        assert ws.metadata.audit_head() == head  # nothing was written
    finally:
        carol.close()


def test_run_records_edited_or_deleted_are_caught(store: Settings, ws: Workspace) -> None:
    runs = ws.metadata.list_runs(limit=None)
    first, last = runs[-1].id, runs[0].id
    sql(
        store,
        "UPDATE runs SET params = '{\"quality\": 0.99}', user = 'mallory', status = 'failed' WHERE id = ?",
        (first,),
    )
    with _db(store) as conn:
        executions = [
            r[0] for r in conn.execute("SELECT id FROM executions WHERE run_id = ?", (last,))
        ]
        for execution in executions:
            conn.execute("DELETE FROM events WHERE execution_id = ?", (execution,))
        conn.execute("DELETE FROM executions WHERE run_id = ?", (last,))
        conn.execute("DELETE FROM metrics WHERE run_id = ?", (last,))
        conn.execute("DELETE FROM runs WHERE id = ?", (last,))
    found = problems(ws)
    for column in ("params", "user", "status"):
        assert any(f"runs {first[:12]}: column {column} is" in p for p in found), found
    assert any(f"runs {last[:12]}: the row is gone" in p for p in found)
    assert any(f"executions {executions[0][:12]}: the row is gone" in p for p in found)


def test_lineage_records_edited_are_caught(store: Settings, ws: Workspace) -> None:
    sql(
        store,
        "UPDATE events SET digest = (SELECT digest FROM artifacts WHERE kind = 'folder') "
        "WHERE rowid = (SELECT max(rowid) FROM events WHERE direction = 'output')",
    )
    sql(store, "UPDATE executions SET params = '{\"rows\": 1}' WHERE rowid = 1")
    sql(store, "UPDATE artifacts SET kind = 'report' WHERE rowid = 1")
    found = problems(ws)
    assert any(": events " in p and "column digest is" in p for p in found), found
    assert any(": executions " in p and "column params is" in p for p in found), found
    assert any(": artifacts " in p and "column kind is 'report'" in p for p in found), found


# -- artifact bytes ------------------------------------------------------------------------


def _blobs(settings: Settings) -> list[Path]:
    # The artifacts' bytes (the file naming the store's chain is checked on its own).
    return sorted(p for p in (Path(settings.artifact_root) / "sha256").rglob("*") if p.is_file())


def test_each_artifact_file_flipped_or_deleted_in_turn_is_caught(
    store: Settings, ws: Workspace
) -> None:
    blobs = _blobs(store)
    manifest = next(a for a in ws.metadata.sealed_rows("artifacts") if a["kind"] == "folder")
    members = set(json.loads(ws.artifacts.get_bytes(manifest["digest"])).values())
    assert len(members) == 2
    assert len(blobs) >= 10
    for path in blobs:
        digest = path.name
        original = path.read_bytes()
        path.chmod(0o644)
        path.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])
        found = problems(ws)
        assert any(f"artifact {digest[:12]} it names was altered" in p for p in found), (
            path,
            found,
        )
        path.unlink()
        found = problems(ws)
        assert any(f"artifact {digest[:12]} it names has no bytes" in p for p in found), path
        path.write_bytes(original)
    assert verify_chain(ws).ok
    # The folder's files are checked through its manifest, not only as step outputs.
    assert members <= {p.name for p in blobs}
