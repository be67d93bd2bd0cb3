"""Archiving versions: hidden from NAME@latest and listings, kept, audited, refused while an
alias holds the version."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.audit import verify_chain
from assay.errors import GovernanceError, ModelNotFoundError, PermissionDenied
from assay.governance import archive, promote, restore
from assay.registry import resolve
from assay.workspace import Workspace
from tests.governance.conftest import Train


def model_actions(ws: Workspace, subject: str) -> list[str]:
    return [
        e.action
        for e in ws.metadata.audit_events()
        if e.subject == subject and e.action.startswith("model.")
    ]


def test_an_archived_version_is_hidden_kept_and_audited(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    train()
    train(weight=2.0)
    alice = as_user("alice")
    archived = archive(alice, "toy@2", "trained on the wrong split")
    assert (archived.archived_by, archived.archive_reason) == (
        "alice",
        "trained on the wrong split",
    )
    assert resolve(alice, "toy@latest").version == 1
    assert resolve(alice, "toy@newest").version == 1
    assert resolve(alice, "toy@2").archived_at is not None  # a number names any version
    assert [v.version for v in alice.metadata.model_versions("toy", archived=False)] == [1]
    assert [v.version for v in alice.metadata.model_versions("toy")] == [1, 2]
    assert model_actions(alice, "model:toy@2") == ["model.registered", "model.archived"]

    restored = restore(alice, "toy@2", "the split was right after all")
    assert restored.archived_at is None and restored.archive_reason is None
    assert resolve(alice, "toy@latest").version == 2
    assert model_actions(alice, "model:toy@2") == [
        "model.registered",
        "model.archived",
        "model.restored",
    ]
    assert verify_chain(alice).ok


def test_latest_says_when_the_newest_version_is_archived(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    train()
    alice = as_user("alice")
    archive(alice, "toy@1", "superseded")
    with pytest.raises(ModelNotFoundError, match=r"the newest, toy@1, is archived \(superseded\)"):
        resolve(alice, "toy@latest")


def test_a_version_an_alias_holds_cannot_be_archived(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    train()
    alice = as_user("alice")
    promote(alice, "toy@1", "candidate")
    with pytest.raises(GovernanceError, match="toy@1 holds the alias candidate") as raised:
        archive(alice, "toy@1", "cleanup")
    assert "move toy@candidate to another version first" in (raised.value.hint or "")
    assert resolve(alice, "toy@1").archived_at is None
    assert model_actions(alice, "model:toy@1") == ["model.registered"]


def test_an_archived_version_takes_no_alias(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    train()
    alice = as_user("alice")
    archive(alice, "toy@1", "superseded")
    with pytest.raises(GovernanceError, match="toy@1 is archived; an alias cannot point at it"):
        promote(alice, "toy@1", "candidate")
    assert alice.metadata.aliases("toy") == []


def test_archiving_needs_a_number_a_reason_and_the_developer_role(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    train()
    alice = as_user("alice")
    with pytest.raises(GovernanceError, match="names one version by its number"):
        archive(alice, "toy@latest", "cleanup")
    with pytest.raises(GovernanceError, match="archive needs a reason"):
        archive(alice, "toy@1", "  ")
    with pytest.raises(PermissionDenied, match="needs the developer role"):
        archive(as_user("eve"), "toy@1", "cleanup")
    with pytest.raises(GovernanceError, match="toy@1 is not archived"):
        restore(alice, "toy@1", "nothing to do")
    archive(alice, "toy@1", "cleanup")
    with pytest.raises(GovernanceError, match="toy@1 is archived already"):
        archive(alice, "toy@1", "again")
    assert model_actions(alice, "model:toy@1") == ["model.registered", "model.archived"]
