"""The signing key and the checkpoint log kept outside the store."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assay.anchor import (
    Checkpoint,
    CheckpointLog,
    CheckpointLogs,
    FileSealer,
    Keyring,
    MemorySealer,
    PublicKey,
    SigningKey,
)
from assay.errors import AuditError


def test_key_is_created_once_private_and_verifiable(tmp_path: Path) -> None:
    for attempt in range(10):  # racing creators agree on one key, every time
        path = tmp_path / f"keys{attempt}" / "signing.key"
        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(SigningKey.load_or_create, [path] * 16))
        assert len({k.public.key_id for k in keys}) == 1
        assert sorted(p.name for p in path.parent.iterdir()) == ["signing.key", "signing.pub"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signature = keys[0].sign(b"data")
    public = PublicKey.load(path)
    assert public.verify(b"data", signature)
    assert not public.verify(b"other", signature)
    assert not public.verify(b"data", "not base64!")
    path.unlink()  # the public half alone still verifies
    assert PublicKey.load(path).verify(b"data", signature)


def test_missing_or_wrong_key_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no audit signing key"):
        PublicKey.load(tmp_path / "nope.key")
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(AuditError, match="not a PEM key"):
        SigningKey.load(tmp_path / "bad.key")


@pytest.mark.parametrize("kind", ["file", "fsspec"])
def test_checkpoint_log_appends_and_reads_back(tmp_path: Path, kind: str) -> None:
    location = str(tmp_path / "cp.jsonl") if kind == "file" else f"memory://{tmp_path.name}/cps"
    log = CheckpointLog(location)
    assert log.read() == []
    first = Checkpoint(1, "a" * 64, 1.0, "k", "sig")
    second = Checkpoint(2, "b" * 64, 2.0, "k", "sig")
    log.append(first)
    log.append(second)
    assert log.read() == [first, second]


def test_edited_checkpoint_log_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    path.write_text('{"seq": 1}\n')
    with pytest.raises(AuditError, match="checkpoint 1 .* is not a checkpoint record"):
        CheckpointLog(str(path)).read()


def test_file_sealer_needs_no_key_until_it_signs(tmp_path: Path) -> None:
    sealer = FileSealer(tmp_path / "k" / "signing.key", str(tmp_path / "cp.jsonl"), tmp_path)
    assert not (tmp_path / "k").exists()
    signature = sealer.sign("ab" * 32)
    sealer.checkpoint(1, "ab" * 32, "ab" * 32)
    [checkpoint] = sealer.checkpoints(sealer.key_id, "ab" * 32)
    public = sealer.public_key(sealer.key_id)
    assert public.verify(checkpoint.message(), checkpoint.signature)
    assert public.verify(("ab" * 32).encode(), signature)
    memory = MemorySealer()
    memory.checkpoint(3, "cd" * 32, "ef" * 32)
    [written] = memory.checkpoints(memory.key_id, "ef" * 32)
    assert memory.public_key(memory.key_id).verify(written.message(), written.signature)


def test_keyring_finds_keys_by_id_and_names_where_it_looked(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "keys", legacy=tmp_path / "audit")
    made = ring.create()
    key_id = made.public.key_id
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        f"{key_id}.key",
        f"{key_id}.pub",
    ]
    assert ring.signing_key(key_id).public.key_id == key_id
    assert ring.public_key(key_id).key_id == key_id
    # A key an earlier version kept in a folder per database URL is found by its id.
    old = SigningKey.load_or_create(tmp_path / "audit" / "0123456789abcdef" / "signing.key")
    assert ring.signing_key(old.public.key_id).public.key_id == old.public.key_id
    with pytest.raises(AuditError, match="signed with key feedfacefeedface.*looked in") as caught:
        ring.public_key("feedfacefeedface")
    assert str(tmp_path / "keys" / "feedfacefeedface.key") in caught.value.message
    assert str(tmp_path / "audit" / "*" / "signing.key") in caught.value.message
    (tmp_path / "keys" / f"{key_id}.key").unlink()  # an auditor's machine: the .pub alone
    assert ring.public_key(key_id).key_id == key_id
    with pytest.raises(AuditError, match="only the public half"):
        ring.signing_key(key_id)


def test_each_chain_has_its_own_checkpoint_log(tmp_path: Path) -> None:
    logs = CheckpointLogs("", tmp_path / "cps", legacy=tmp_path / "audit")
    a, b = (
        Checkpoint(1, "a" * 64, 1.0, "k", "s", "a" * 64),
        Checkpoint(1, "b" * 64, 1.0, "k", "s", "b" * 64),
    )
    logs.log("k", a.chain).append(a)
    logs.log("k", b.chain).append(b)
    assert logs.read("k", a.chain, other_chains=False) == [a]
    assert logs.read("k", a.chain, other_chains=True) == [a, b]
    assert logs.read("other", a.chain, other_chains=True) == []
    shared = CheckpointLogs(str(tmp_path / "one.jsonl"), tmp_path / "cps")
    shared.log("k", a.chain).append(a)
    shared.log("k", b.chain).append(b)
    assert shared.read("k", a.chain, other_chains=False) == [a, b]  # records name their chain
