"""A project folder with the toy pipeline's policy and card, and runs of it as named users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import assay
from assay import Settings
from assay.metadata import ModelVersionRecord
from assay.registry import resolve
from assay.workspace import Workspace, open_workspace
from tests.governed import toy, write_project

Train = Callable[..., ModelVersionRecord]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path / "toy")
    return tmp_path / "toy"


@pytest.fixture
def as_user(settings: Settings) -> Iterator[Callable[[str], Workspace]]:
    """Open the store as a given user; every workspace opened is closed afterwards."""
    opened: list[Workspace] = []

    def open_as(user: str) -> Workspace:
        ws = open_workspace(settings.as_user(user))
        opened.append(ws)
        return ws

    yield open_as
    for ws in opened:
        ws.close()


@pytest.fixture
def train(project: Path, as_user: Callable[[str], Workspace]) -> Train:
    """Run the toy pipeline as ``user`` (alice by default) and return the version it made."""

    def run(user: str = "alice", **params: Any) -> ModelVersionRecord:
        ws = as_user(user)
        values = {"policy": project / "policy.yaml", "card": project / "model_card.yaml"}
        assay.run(toy, {**values, **params}, workspace=ws)
        return resolve(ws, "toy@newest")  # the one just trained, whatever its gates

    return run
