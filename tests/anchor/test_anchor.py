"""The signing key and the checkpoint log kept outside the store."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assay.anchor import Checkpoint, CheckpointLog, FileSealer, MemorySealer, PublicKey, SigningKey
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
    sealer = FileSealer(tmp_path / "k" / "signing.key", str(tmp_path / "cp.jsonl"))
    assert not (tmp_path / "k").exists()
    signature = sealer.sign("ab" * 32)
    sealer.checkpoint(1, "ab" * 32)
    [checkpoint] = sealer.checkpoints()
    assert sealer.public_key().verify(checkpoint.message(), checkpoint.signature)
    assert sealer.public_key().verify(("ab" * 32).encode(), signature)
    memory = MemorySealer()
    memory.checkpoint(3, "cd" * 32)
    assert memory.public_key().verify(
        memory.checkpoints()[0].message(), memory.checkpoints()[0].signature
    )
