"""Artifacts over HTTP: what `assay artifacts show --json` shows; the bytes, streamed with
headers to check them by, which hash to the digest; bytes changed on disk are refused
(a 409, none of them sent), and are then gone (a 404)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict
from pathlib import Path

import pytest

from assay.server.api import artifacts
from assay.store.artifacts import ArtifactStore
from assay.store.blobs import LocalBlobStorage
from tests.server.api.conftest import Team


def _model_digest(team: Team) -> str:
    return team.ws.metadata.model_versions("toy")[0].digest


def _file_of(team: Team, digest: str) -> Path:
    blobs = team.ws.artifacts.blobs
    assert isinstance(blobs, LocalBlobStorage)
    return blobs.root / ArtifactStore.key(digest)


def test_an_artifact_is_shown_with_its_producer_consumers_and_models(team: Team) -> None:
    digest = _model_digest(team)
    art = team.ws.metadata.get_artifact(digest)
    producer = team.ws.metadata.get_execution(art.producer or "")
    shown = team.client("dave").get(f"/artifacts/sha256:{digest[:12]}")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    fields = {k: v for k, v in asdict(art).items() if k != "producer"}
    assert {k: body[k] for k in fields} == fields
    assert body["producer"] == {
        "execution": producer.id,
        "step": producer.step,
        "run": producer.run_id,
    }
    assert producer.run_id == team.ws.metadata.model_versions("toy")[0].run_id
    assert body["models"] == ["toy@1"] and body["verified"] is False
    consumers = {c["step"] for c in body["consumers"]}
    expected = {
        team.ws.metadata.get_execution(e.execution_id).step
        for e in team.ws.metadata.events_for(digest, "input")
    }
    assert consumers == expected
    assert (
        team.client("dave").get(f"/artifacts/{digest}", params={"verify": True}).json()["verified"]
    )
    missing = team.client("dave").get("/artifacts/ffffffffffff")
    assert missing.status_code == 404 and "ffffffffffff" in missing.json()["error"]
    assert team.client(None).get(f"/artifacts/{digest}").status_code == 401


def test_a_download_is_the_bytes_that_hash_to_the_digest(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "CHUNK", 7)  # several pieces, even for a small artifact
    digest = _model_digest(team)
    with team.client("dave").stream("GET", f"/artifacts/sha256:{digest}/content") as answer:
        assert answer.status_code == 200
        pieces = list(answer.iter_raw())
    data = b"".join(pieces)
    assert hashlib.sha256(data).hexdigest() == digest
    assert data == team.ws.artifacts.get_bytes(digest)
    assert answer.headers["content-length"] == str(len(data))
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["etag"] == f'"sha256:{digest}"'
    assert (
        answer.headers["digest"]
        == "sha-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    )
    missing = team.client("dave").get(f"/artifacts/{'f' * 64}/content")
    assert missing.status_code == 404 and "f" * 64 in missing.json()["error"]
    prefix = team.client("dave").get(f"/artifacts/{digest[:12]}/content")
    assert prefix.status_code == 400 and "digest" in prefix.json()["error"]


def test_bytes_changed_on_disk_are_refused_and_never_served(team: Team) -> None:
    digest = _model_digest(team)
    stored = _file_of(team, digest)
    garbage = b"not the model at all " * 10
    stored.write_bytes(garbage)
    dave = team.client("dave")
    refused = dave.get(f"/artifacts/{digest}/content")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/json")
    assert b"not the model" not in refused.content
    assert "corrupted" in refused.json()["error"] and digest[:12] in refused.json()["error"]
    assert refused.json()["hint"]
    # The store moved the bad bytes aside: now there are none to serve.
    gone = dave.get(f"/artifacts/{digest}/content")
    assert gone.status_code == 404 and "no bytes" in gone.json()["error"]
    assert dave.get(f"/artifacts/{digest}", params={"verify": True}).status_code == 404
    assert dave.get(f"/artifacts/{digest}").json()["verified"] is False  # the record stays


def test_a_changed_artifact_is_a_409_when_shown_verified(team: Team) -> None:
    digest = _model_digest(team)
    _file_of(team, digest).write_bytes(b"garbage")
    refused = team.client("dave").get(f"/artifacts/{digest}", params={"verify": True})
    assert refused.status_code == 409 and "corrupted" in refused.json()["error"]
