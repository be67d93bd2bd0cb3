"""A team with a store: ann the admin, bob an approver, carol a developer who trained toy@1
(its gates passed), each with an API token; and the team server over the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import assay
from assay import Settings
from assay.governance import grant, issue_token
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.workspace import Workspace, open_workspace
from tests.governed import toy, write_project


@dataclasses.dataclass
class Team:
    url: str
    settings: Settings
    ws: Workspace  # the server's own workspace (ann's, the admin's)
    tokens: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        """An HTTP client with ``who``'s token (None: no credential)."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


def team_store(root: Path) -> Settings:
    """A store in ROOT/project: ann admin, bob approver, carol developer (who trained toy@1),
    dave viewer; its audit key under ROOT/state/assay."""
    settings = dataclasses.replace(
        Settings.for_project(root / "project", user="ann"),
        audit_home=str(root / "state" / "assay"),  # XDG_STATE_HOME=root/state finds it
    )
    ann = open_workspace(settings)
    try:
        grant(ann, "ann", "admin")
        grant(ann, "bob", "approver")
        grant(ann, "carol", "developer")
        grant(ann, "dave", "viewer")
    finally:
        ann.close()
    carol = open_workspace(settings.as_user("carol"))
    try:
        policy, card = write_project(root / "project" / "toy")
        assay.run(toy, {"policy": policy, "card": card}, workspace=carol)
    finally:
        carol.close()
    return settings


@pytest.fixture(params=["token"])
def team(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Team]:
    settings = team_store(tmp_path)
    ws = open_workspace(settings)
    tokens = {
        user: issue_token(ws, user, role).token
        for user, role in [
            ("ann", "admin"),
            ("bob", "approver"),
            ("carol", "developer"),
            ("dave", "viewer"),
        ]
    }
    try:
        with team_serving(ws, TeamOptions(auth=request.param)) as (url, _):
            yield Team(url, settings, ws, tokens)
    finally:
        ws.close()
