"""Archived model versions, run over SQLite (file and memory) and PostgreSQL."""

from __future__ import annotations

import pytest

from assay.errors import GovernanceError
from assay.metadata import MetadataStore, Registration
from tests.metadata.test_repository import artifact, make_execution, make_run


def two_versions(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(
        make_execution("e1", "r1", "k"), artifacts=[artifact("1" * 64), artifact("2" * 64)]
    )
    for digest in ("1" * 64, "2" * 64):
        meta.register_version(Registration("m", digest, "json", "r1", "e1", "alice", {}))


def actions(meta: MetadataStore, subject: str) -> list[str]:
    return [e.action for e in meta.audit_events() if e.subject == subject]


def test_archive_and_restore_are_written_with_their_audit_events(meta: MetadataStore) -> None:
    two_versions(meta)
    archived = meta.archive_version("m", 2, by="alice", reason="wrong split")
    assert archived.archived_at is not None
    assert (archived.archived_by, archived.archive_reason) == ("alice", "wrong split")
    assert meta.model_version("m", 2) == archived
    assert [v.version for v in meta.model_versions("m", archived=False)] == [1]
    assert [v.version for v in meta.model_versions("m")] == [1, 2]
    restored = meta.restore_version("m", 2, by="bob", reason="it was right")
    assert restored.archived_at is None and meta.model_version("m", 2) == restored
    assert actions(meta, "model:m@2") == ["model.registered", "model.archived", "model.restored"]


def test_aliases_and_archived_versions_exclude_each_other(meta: MetadataStore) -> None:
    two_versions(meta)
    meta.move_alias("m", "production", 1, by="alice", reason="first", expected=None)
    with pytest.raises(GovernanceError, match="m@1 holds the alias production"):
        meta.archive_version("m", 1, by="alice", reason="cleanup")
    meta.archive_version("m", 2, by="alice", reason="cleanup")
    with pytest.raises(GovernanceError, match="m@2 is archived"):
        meta.move_alias("m", "production", 2, by="alice", reason="next", expected=1)
    assert meta.alias_version("m", "production") == 1
    assert meta.model_version("m", 1).archived_at is None  # type: ignore[union-attr]
    assert actions(meta, "model:m@1") == ["model.registered"]
