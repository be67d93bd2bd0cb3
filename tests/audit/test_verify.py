"""Tampering with the audit chain, the registry or artifact bytes is caught, and named."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import assay
from assay import Settings
from assay.anchor import SigningKey
from assay.audit import VerifyReport, export_events, verify_chain
from assay.core import sha256_hex
from assay.errors import AuditError
from assay.metadata import AuditEntry, event_body
from assay.metadata.engine import _shared_memo
from assay.workspace import Workspace, open_workspace
from assay.workspace.guard import CHAIN_KEY
from tests.governed import promoted_toy, toy, write_project


@pytest.fixture
def ws(settings: Settings, tmp_path: Path) -> Iterator[Workspace]:
    """A store with a trained, approved and promoted toy model."""
    alice = promoted_toy(settings, tmp_path / "toy")
    yield alice
    alice.close()


def sql(ws: Workspace, statement: str, **params: object) -> None:
    with ws.metadata.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def first(report: VerifyReport) -> str:
    assert not report.ok
    return str(report.problems[0])


def test_untouched_store_verifies(ws: Workspace) -> None:
    report = verify_chain(ws)
    assert report.ok, report.problems
    actions = [e.action for e in ws.metadata.audit_events()]
    for action in (
        "run.started",
        "step.succeeded",
        "model.registered",
        "gate.verdict",
        "role.granted",
        "promotion.requested",
        "promotion.approved",
        "alias.moved",
        "run.finished",
    ):
        assert action in actions
    assert report.events == len(actions) and report.checkpoint_seq == report.head_seq
    assert report.artifacts >= 5


def test_edited_column_and_body_are_caught(ws: Workspace) -> None:
    sql(ws, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    assert first(verify_chain(ws)) == "event 3: column actor differs from the sealed record"
    sql(
        ws,
        "UPDATE audit_events SET actor = 'alice', body = replace(body, 'alice', 'mallory') WHERE seq = 3",
    )
    assert first(verify_chain(ws)) == "event 3: its contents were changed (hash mismatch)"


def test_deleted_event_in_the_middle_is_caught(ws: Workspace) -> None:
    sql(ws, "DELETE FROM audit_events WHERE seq = 5")
    assert first(verify_chain(ws)).startswith("event 5: it was checkpointed but is no longer")
    assert any("event 6: events 5..5 are missing" in str(p) for p in verify_chain(ws).problems)


def test_deleted_tail_is_caught_by_the_checkpoints(ws: Workspace) -> None:
    head, _digest = ws.metadata.audit_head()
    prev = ws.metadata.audit_events(head - 2, 1)[0].hash
    sql(ws, "DELETE FROM audit_events WHERE seq >= :s", s=head - 1)
    sql(ws, "UPDATE audit_head SET seq = :s, hash = :h", s=head - 2, h=prev)
    problems = [str(p) for p in verify_chain(ws).problems]
    assert any(p.startswith(f"event {head - 1}: it was checkpointed") for p in problems)
    # What the cut events did is still in the tables, which say more than the chain now.
    assert any("column status is 'done', but the audit chain sealed 'open'" in p for p in problems)


def test_inserted_event_is_caught(ws: Workspace) -> None:
    head, digest = ws.metadata.audit_head()
    entry = AuditEntry("alias.moved", "model:toy@production", {"version": 1})
    body = event_body(head + 1, 1.0, "mallory", entry, digest)
    sql(
        ws,
        "INSERT INTO audit_events (seq, at, actor, action, subject, body, prev_hash, hash) "
        "VALUES (:seq, 1.0, 'mallory', 'alias.moved', 'model:toy@production', :body, :prev, :h)",
        seq=head + 1,
        body=body,
        prev=digest,
        h=sha256_hex(body.encode()),
    )
    sql(ws, "UPDATE audit_head SET seq = :s, hash = :h", s=head + 1, h=sha256_hex(body.encode()))
    assert first(verify_chain(ws)) == f"event {head + 1}: it is not signed"


def test_reordered_events_are_caught(ws: Workspace) -> None:
    sql(ws, "UPDATE audit_events SET seq = -1 WHERE seq = 4")
    sql(ws, "UPDATE audit_events SET seq = 4 WHERE seq = 5")
    sql(ws, "UPDATE audit_events SET seq = 5 WHERE seq = -1")
    assert first(verify_chain(ws)) == "event 4: it was sealed as event 5 (moved)"


def rewrite_chain(
    ws: Workspace, key: SigningKey, *, key_id: str, renamed: tuple[str, ...] = ("bob",)
) -> None:
    """Rewrite history as whoever can write the database would: what ``renamed`` did, mallory
    did; every hash recomputed and signed with ``key``, the columns naming ``key_id``."""
    events = ws.metadata.audit_events()
    prev = "0" * 64
    with ws.metadata.engine.begin() as conn:
        for ev in events:
            body = json.loads(ev.body)
            actor = "mallory" if ev.actor in renamed else ev.actor
            entry = AuditEntry(body["action"], body["subject"], body["payload"])
            new_body = event_body(ev.seq, ev.at, actor, entry, prev, body.get("state"))
            digest = sha256_hex(new_body.encode())
            conn.execute(
                sa.text(
                    "UPDATE audit_events SET actor = :a, body = :b, prev_hash = :p, hash = :h, "
                    "signature = :s, key_id = :k WHERE seq = :seq"
                ),
                {
                    "a": actor,
                    "b": new_body,
                    "p": prev,
                    "h": digest,
                    "seq": ev.seq,
                    "s": key.sign(digest.encode()),
                    "k": key_id,
                },
            )
            prev = digest
        conn.execute(
            sa.text("UPDATE audit_head SET hash = :h, key_id = :k"), {"h": prev, "k": key_id}
        )


def test_whole_chain_rewritten_with_recomputed_hashes_is_caught(ws: Workspace) -> None:
    forger = SigningKey.load_or_create(Path(ws.metadata.engine.url.database).parent / "forged.key")
    original = ws.metadata.audit_events()[0].key_id
    assert original is not None
    rewrite_chain(ws, forger, key_id=original)
    report = verify_chain(ws)
    assert first(report) == "event 1: its signature does not verify with the store's audit key"
    assert any("differs from the checkpoint" in p.message for p in report.problems)
    # Naming the forger's key instead: it is in none of the places assay trusts.
    rewrite_chain(ws, forger, key_id=forger.public.key_id)
    with pytest.raises(AuditError, match=f"signed with key {forger.public.key_id}.*looked in"):
        verify_chain(ws)


def test_chain_rewritten_from_event_1_with_its_own_key_is_caught(
    ws: Workspace, settings: Settings
) -> None:
    # The holder of the key rewrites the chain, event 1 included, and goes on with assay, so
    # the rewritten chain gets checkpoints of its own: the real chain's are still there.
    real = ws.metadata.audit_events()[0]
    key_id = real.key_id
    assert key_id is not None
    key = SigningKey.load(Path(settings.audit_home) / "keys" / f"{key_id}.key")
    rewrite_chain(ws, key, key_id=key_id, renamed=("alice", "bob"))
    forged = ws.metadata.audit_events()[0].hash
    assert forged != real.hash
    _shared_memo.cache_clear()  # as a new process: it reads the head back
    ws = open_workspace(settings)
    # The artifact store still names the real chain: nothing is written on the forged one.
    with pytest.raises(AuditError, match="belongs to the chain whose event 1 is"):
        ws.metadata.grant_role("eve", "viewer", "alice")
    # Whoever holds the key may rename the artifact store's chain too, and go on.
    ws.artifacts.blobs.write(CHAIN_KEY, json.dumps({"key_id": key_id, "first": forged}).encode())
    ws = open_workspace(settings)
    ws.metadata.grant_role("eve", "viewer", "alice")
    report = verify_chain(ws)
    rewritten = (
        f"key {key_id} also signed checkpoints of another chain, whose event 1 is "
        f"{real.hash[:12]}: this chain was rewritten from event 1 on, or the key "
        "signs another store too"
    )
    problems = [str(p) for p in report.problems]
    assert rewritten in problems
    # Every event is signed with the real key, so the rest is what the rewrite changed:
    # what alice and bob did is sealed as mallory's, and the tables still say otherwise.
    assert all(p == rewritten or "mallory" in p or "/bob" in p for p in problems), problems


def test_removed_checkpoints_are_caught(ws: Workspace, settings: Settings) -> None:
    shutil.rmtree(Path(settings.audit_home) / "checkpoints")
    message = first(verify_chain(ws))
    assert message.startswith("no checkpoint of the chain exists outside the store (looked in ")
    assert str(Path(settings.audit_home) / "checkpoints") in message


def test_flipped_artifact_bytes_are_caught(ws: Workspace) -> None:
    model = ws.metadata.model_version("toy", 1)
    assert model is not None
    path = Path(ws.artifacts.blobs.root) / ws.artifacts.key(model.digest)  # type: ignore[attr-defined]
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    message = first(verify_chain(ws))
    assert f"artifact {model.digest[:12]} it names was altered" in message


def test_registry_changed_behind_the_chain_is_caught(ws: Workspace) -> None:
    sql(ws, "UPDATE model_aliases SET version = 7 WHERE alias = 'production'")
    message = first(verify_chain(ws))
    assert message.endswith(
        ": model_aliases toy/production: column version is 7, but the audit chain sealed 1"
    )
    sql(ws, "UPDATE model_aliases SET version = 1 WHERE alias = 'production'")
    other = ws.metadata.audit_events()[0]  # any digest that is not the model's
    sql(
        ws,
        "UPDATE model_versions SET digest = (SELECT digest FROM artifacts LIMIT 1) WHERE version = 1",
    )
    assert other is not None
    message = first(verify_chain(ws))
    assert "model_versions toy/1: column digest is '" in message
    assert "but the audit chain sealed" in message


def test_export_ends_with_the_head(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    with out.open("w") as handle:
        head = export_events(ws, handle)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[-1] == {"head": head}
    assert head["seq"] == len(lines) - 1 == lines[-2]["seq"]
    assert head["hash"] == lines[-2]["hash"] == sha256_hex(lines[-2]["body"].encode())


def _store_from_before_the_chain(settings: Settings, model: str) -> None:
    """A store at schema revision 0001 (no audit chain) with one run and ``model``@1."""
    from alembic import command

    from assay.metadata.engine import alembic_config

    engine = sa.create_engine(settings.db_url)
    Path(settings.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, pipeline, source, status, params, started_at, user, host, pid, "
                "python_version, packages, experiment, tags) VALUES ('old', 'p', '', 'succeeded', "
                "'{}', 1.0, 'zoe', 'h', 1, '3.11', '{}', 'default', '{}')"
            )
        )
        conn.execute(
            sa.text("INSERT INTO artifacts VALUES (:d, 'model', 'json', 2, 'dict', 1.0, NULL)"),
            {"d": "f" * 64},
        )
        conn.execute(sa.text("INSERT INTO models VALUES (:m, 1.0, 'zoe')"), {"m": model})
        conn.execute(
            sa.text(
                "INSERT INTO model_versions (name, version, digest, codec, run_id, execution_id, "
                "created_at, created_by, info) VALUES (:m, 1, :d, 'json', 'old', 'x', 1.0, 'zoe', '{}')"
            ),
            {"d": "f" * 64, "m": model},
        )
    engine.dispose()


def test_a_store_from_before_the_audit_chain_verifies(settings: Settings, tmp_path: Path) -> None:
    _store_from_before_the_chain(settings, "old")
    ws = promoted_toy(settings, tmp_path / "toy")  # migrates, then audits everything new
    try:
        report = verify_chain(ws)
        assert report.ok, report.problems
        assert report.unaudited == 1
    finally:
        ws.close()


def test_a_missing_or_different_key_refuses_changes(
    ws: Workspace, settings: Settings, tmp_path: Path
) -> None:
    head = ws.metadata.audit_head()
    lost = dataclasses.replace(settings, audit_key=str(tmp_path / "elsewhere" / "signing.key"))
    other = open_workspace(lost)
    try:
        with pytest.raises(AuditError, match="signed with key .* there is no key at"):
            other.metadata.grant_role("eve", "viewer", "alice")
        assert not (tmp_path / "elsewhere" / "signing.key").exists()  # no new key made
        SigningKey.load_or_create(tmp_path / "elsewhere" / "signing.key")
        other = open_workspace(lost)
        with pytest.raises(AuditError, match="but this store's audit log is signed with"):
            other.metadata.grant_role("eve", "viewer", "alice")
    finally:
        other.close()
    assert ws.metadata.audit_head() == head  # nothing was written
    assert [g.user for g in ws.metadata.role_grants()] == ["alice", "bob"]


def test_a_failed_checkpoint_warns_and_keeps_the_change(
    ws: Workspace, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    broken = open_workspace(
        dataclasses.replace(settings, audit_checkpoints=str(blocked / "checkpoints.jsonl"))
    )
    try:
        broken.metadata.grant_role("eve", "viewer", "alice")
    finally:
        broken.close()
    assert "audit checkpoint" in caplog.text and "not written" in caplog.text
    assert "eve" in [g.user for g in ws.metadata.role_grants()]
    ws.metadata.grant_role("fay", "viewer", "alice")  # the next checkpoint covers both
    assert verify_chain(ws).ok


def test_rows_from_before_the_chain_that_later_events_touch_verify(
    settings: Settings, tmp_path: Path
) -> None:
    # A model registered before the upgrade gets a new version after it, and the old
    # version's artifact is read again: neither old row has a record of its own to compare.
    _store_from_before_the_chain(settings, "toy")
    policy, card = write_project(tmp_path / "toy")
    ws = open_workspace(settings)
    try:
        assay.run(toy, {"policy": policy, "card": card}, workspace=ws)
        assert ws.metadata.model_version("toy", 2) is not None
        report = verify_chain(ws)
        assert report.ok, report.problems
        assert report.unaudited == 1
    finally:
        ws.close()
