"""Evidence of a registered version cannot be deleted; other bytes can, with an audited reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import assay
from assay.audit import verify_chain
from assay.errors import GovernanceError, PermissionDenied
from assay.governance import delete_artifact, grant
from assay.workspace import Workspace
from tests.governance.conftest import Train
from tests.pipelines import numbers


def test_evidence_is_kept_and_other_bytes_go_with_a_reason(
    as_user: Callable[[str], Workspace], train: Train
) -> None:
    version = train()
    ws = as_user("alice")
    with pytest.raises(GovernanceError, match="is evidence for toy@1"):
        delete_artifact(ws, version.digest, "space")
    assert ws.artifacts.exists(version.digest)

    result = assay.run(numbers, workspace=ws)
    scratch = next(iter(result.executions[-1].outputs.values()))
    with pytest.raises(GovernanceError, match="needs a reason"):
        delete_artifact(ws, scratch, " ")
    grant(ws, "dave", "developer")
    with pytest.raises(PermissionDenied, match="admin role"):
        delete_artifact(as_user("dave"), scratch, "space")
    delete_artifact(ws, scratch, "scratch output")
    assert not ws.artifacts.exists(scratch)
    deleted = [e for e in ws.metadata.audit_events() if e.action == "artifact.deleted"]
    assert [(e.subject, e.actor) for e in deleted] == [(f"artifact:{scratch}", "alice")]
    assert verify_chain(ws).ok  # bytes deleted on record are not tampering

    rerun = assay.run(numbers, workspace=ws)  # the step whose output is gone runs again
    assert rerun.executions[-1].status == "succeeded" and ws.artifacts.exists(scratch)
