"""Opening a store for the first time: processes at once on an empty database all succeed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from assay.metadata import open_metadata
from tests.metadata.conftest import postgres_schema_url

OPEN = """
import sys, time
from assay.metadata import open_metadata
start = float(sys.argv[2])
while time.time() < start:  # every process connects at the same moment
    time.sleep(0.001)
store = open_metadata(sys.argv[1])
store.grant_role(sys.argv[3], "viewer", sys.argv[3])
print("ok")
"""


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    yield from postgres_schema_url()


def test_four_processes_opening_an_empty_postgresql_database_all_succeed(
    empty_postgres: str,
) -> None:
    start = time.time() + 3.0  # time for the interpreters to import assay
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, empty_postgres, str(start), f"user{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outs]
    store = open_metadata(empty_postgres)
    try:
        assert {g.user for g in store.role_grants()} == {f"user{i}" for i in range(4)}
        assert store.audit_head()[0] == 4  # one chain, every grant in it
    finally:
        store.close()
        sa.create_engine(empty_postgres).dispose()
