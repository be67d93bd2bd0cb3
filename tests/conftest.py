"""Shared fixtures: a project folder with its own store, an in-memory workspace, and a store
with the `tiny` text classifier for the model server's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.governance import promote
from assay.testing import memory_workspace
from assay.workspace import Workspace, open_workspace
from tests.textmodel import tiny

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _audit_state_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Audit keys and checkpoints default to the user's state folder: keep each test's apart."""
    home = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh project folder under tmp_path."""
    return Settings.for_project(tmp_path, user="alice")


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    """An open workspace on a fresh SQLite store and local artifact folder."""
    ws = open_workspace(settings)
    yield ws
    ws.close()


@pytest.fixture
def served(workspace: Workspace) -> Workspace:
    """A store with the `tiny` text classifier: version 1 says "up" for profits, version 2
    (flipped) says "down"; alias `live` points at version 1."""
    assay.run(tiny, workspace=workspace)
    assay.run(tiny, {"flip": True}, workspace=workspace)
    promote(workspace, "tiny@1", "live")
    return workspace


@pytest.fixture
def memory_ws() -> Iterator[Workspace]:
    """An in-memory workspace."""
    ws = memory_workspace()
    yield ws
    ws.close()


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the `assay` command in a subprocess on a fresh store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env["ASSAY_HOME"] = str(tmp_path)
    env["ASSAY_USER"] = "alice"
    env["COLUMNS"] = "200"
    return env
