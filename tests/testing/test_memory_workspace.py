from __future__ import annotations

import assay
from assay.testing import MemoryBlobStorage, memory_workspace
from tests import pipelines as p


def test_memory_workspace_is_isolated_and_complete() -> None:
    a, b = memory_workspace(), memory_workspace("bob")
    result = assay.run(p.numbers, workspace=a)
    assert a.metadata.get_run(result.run_id).user == "test-user"
    assert b.metadata.list_runs() == []
    assert isinstance(a.artifacts.blobs, MemoryBlobStorage)
    a.close()
    b.close()
