"""One contract for every audit anchor: what the metadata store and the chain's checks ask
of it, run over each implementation (keyring, explicit files, memory, the workspace's
guard)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assay.anchor import Anchor, CheckpointLog, FileSealer, MemorySealer
from assay.errors import AuditError
from assay.store import ArtifactStore, MemoryBlobStorage
from assay.workspace import ChainGuard, chain_of

Factory = Callable[[Path], Anchor]

FACTORIES: dict[str, Factory] = {
    "keyring": lambda home: FileSealer("", "", home),
    "explicit": lambda home: FileSealer(home / "signing.key", str(home / "cps.jsonl"), home),
    "memory": lambda home: MemorySealer(),
    "guard": lambda home: ChainGuard(
        FileSealer("", "", home), ArtifactStore(MemoryBlobStorage()), db="db", root="mem"
    ),
}


@pytest.fixture(params=sorted(FACTORIES))
def anchor(request: pytest.FixtureRequest, tmp_path: Path) -> Anchor:
    return FACTORIES[request.param](tmp_path)


def test_it_signs_and_verifies_with_the_chains_key(anchor: Anchor) -> None:
    anchor.prepare(None)
    anchor.begin_chain()  # nothing names another chain here
    anchor.check_chain("d" * 64)
    signature = anchor.sign("a" * 64)
    assert anchor.verify("a" * 64, signature)
    assert not anchor.verify("b" * 64, signature)
    assert anchor.public_key(anchor.key_id).verify(("a" * 64).encode(), signature)
    anchor.prepare(anchor.key_id)  # the chain's own key is accepted again


def test_checkpoints_are_read_back_and_the_latest_found(anchor: Anchor) -> None:
    anchor.prepare(None)
    first = "f" * 64
    assert anchor.latest_checkpoint(anchor.key_id, first) is None
    for seq in (1, 3, 2):  # concurrent writers may checkpoint out of order
        anchor.checkpoint(seq, f"{seq:064d}", first)
    latest = anchor.latest_checkpoint(anchor.key_id, first)
    assert latest is not None and latest.seq == 3 and latest.hash == f"{3:064d}"
    key = anchor.public_key(anchor.key_id)
    assert key.verify(latest.message(), latest.signature)
    assert {cp.seq for cp in anchor.checkpoints(anchor.key_id, first)} >= {1, 2, 3}
    assert anchor.checkpoint_location(anchor.key_id, first)


def test_the_guard_names_the_chain_and_refuses_a_new_one_over_it(tmp_path: Path) -> None:
    artifacts = ArtifactStore(MemoryBlobStorage())
    guard = ChainGuard(FileSealer("", "", tmp_path), artifacts, db="sqlite:///x", root="mem")
    guard.prepare(None)
    guard.checkpoint(1, "a" * 64, "a" * 64)
    assert chain_of(artifacts) == {"key_id": guard.key_id, "first": "a" * 64}
    again = ChainGuard(FileSealer("", "", tmp_path), artifacts, db="sqlite:///x", root="mem")
    again.prepare(None)  # a key is made ready; a chain is another matter
    with pytest.raises(AuditError, match="has no audit events, but the artifact store mem"):
        again.begin_chain()
    again.check_chain("a" * 64)  # the chain it names goes on
    with pytest.raises(AuditError, match="belongs to the chain whose event 1 is aaaaaaaaaaaa"):
        again.check_chain("c" * 64)
    on_purpose = ChainGuard(
        FileSealer("", "", tmp_path), artifacts, db="sqlite:///x", root="mem", new_chain=True
    )
    on_purpose.prepare(None)
    on_purpose.begin_chain()
    on_purpose.checkpoint(1, "b" * 64, "b" * 64)
    assert chain_of(artifacts) == {"key_id": on_purpose.key_id, "first": "b" * 64}


def test_the_latest_checkpoint_reads_only_the_end_of_a_long_log(tmp_path: Path) -> None:
    sealer = FileSealer("", "", tmp_path)
    sealer.prepare(None)
    first = "c" * 64
    for seq in range(1, 3001):
        sealer.checkpoint(seq, f"{seq:064d}", first)
    log = sealer.logs.log(sealer.key_id, first)
    path = Path(log.location)
    assert path.stat().st_size > 32 * 1024  # longer than what is read
    latest = sealer.latest_checkpoint(sealer.key_id, first)
    assert latest is not None and latest.seq == 3000
    # A line cut by where the read starts is not an error; an edited end is.
    path.write_text(path.read_text() + "not a checkpoint\n")
    with pytest.raises(AuditError, match="the end of .* is not checkpoint records"):
        CheckpointLog(log.location).latest(first)
