"""A verification while others write reads one state of the store: every writer that
commits between its reads is left out of the report, and none is reported as tampering;
over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import assay.audit.verify as verifying
from assay import Settings
from assay.audit import verify_chain
from assay.governance import grant, promote
from assay.workspace import open_workspace
from tests.governed import promoted_toy
from tests.metadata.conftest import settings_on


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def on_database(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    yield from settings_on(request.param, settings)


def test_writes_between_the_reads_of_a_verification_are_not_tampering(
    on_database: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = promoted_toy(on_database, tmp_path / "toy")
    other = open_workspace(on_database)  # another member's connections to the same store
    seq = alice.metadata.audit_head()[0]
    written: list[str] = []
    check_links = verifying._check_links

    def busy(*args: Any) -> dict[int, str]:
        # After the events are read and before the head, the tables and the checkpoints
        # are: a change to the governance tables commits, sealed and checkpointed.
        written.append(f"user{len(written)}")
        grant(other, written[-1], "viewer")
        if len(written) == 1:
            promote(other, "toy@1", "staging")
        return check_links(*args)

    try:
        monkeypatch.setattr(verifying, "_check_links", busy)
        report = verify_chain(alice)
        assert report.ok, report.problems
        assert written and report.head_seq == seq  # the store as it was when it began
        monkeypatch.undo()
        quiet = verify_chain(alice)
        assert quiet.ok, quiet.problems
        assert quiet.head_seq == seq + len(written) + 1  # and now the writes are in
    finally:
        other.close()
        alice.close()
