"""The audit chain stays one unbroken chain under concurrent writers, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

from assay.anchor import MemorySealer
from assay.audit import verify_chain
from assay.metadata import GENESIS, open_metadata
from assay.store import ArtifactStore, MemoryBlobStorage
from assay.workspace import Workspace


@pytest.fixture
def ws(db_url: str) -> Iterator[Workspace]:
    anchor = MemorySealer()
    store = open_metadata(db_url, actor="alice", sealer=anchor)
    yield Workspace(store, ArtifactStore(MemoryBlobStorage()), "alice", anchor)
    store.close()


def test_a_new_store_starts_at_the_genesis_hash(ws: Workspace) -> None:
    assert ws.metadata.audit_head() == (0, GENESIS)
    assert ws.metadata.audit_events() == []
    assert len(ws.metadata.store_id()) == 32
    assert verify_chain(ws).ok


def test_concurrent_writers_extend_one_chain(ws: Workspace) -> None:
    def grant(i: int) -> None:
        ws.metadata.grant_role(f"user{i}", "viewer", "alice")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(grant, range(40)))
    events = ws.metadata.audit_events()
    assert [e.seq for e in events] == list(range(1, 41))
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    assert {e.subject for e in events} == {f"user:user{i}" for i in range(40)}
    assert ws.metadata.audit_head() == (40, events[-1].hash)
    assert max(c.seq for c in ws.anchor.checkpoints("", "")) == 40
    report = verify_chain(ws)
    assert report.ok, report.problems


def test_a_failed_write_leaves_no_event_and_no_checkpoint(ws: Workspace) -> None:
    ws.metadata.grant_role("bob", "viewer", "alice")
    with pytest.raises(Exception, match="moved to version"):
        ws.metadata.move_alias("m", "production", 1, by="alice", reason="", expected=5)
    assert [e.seq for e in ws.metadata.audit_events()] == [1]
    assert [c.seq for c in ws.anchor.checkpoints("", "")] == [1]
