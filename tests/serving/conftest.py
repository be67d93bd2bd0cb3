"""A store with the `tiny` text classifier: version 1 says "up" for profits, version 2
(flipped) says "down"; alias `live` points at version 1."""

from __future__ import annotations

import pytest

import assay
from assay.governance import promote
from assay.workspace import Workspace
from tests.textmodel import tiny


@pytest.fixture
def served(workspace: Workspace) -> Workspace:
    assay.run(tiny, workspace=workspace)
    assay.run(tiny, {"flip": True}, workspace=workspace)
    promote(workspace, "tiny@1", "live")
    return workspace
