"""Commands that only read never create a store: where there is none they say so and exit 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli.conftest import Invoke

READ_ONLY = [
    ("runs", "list"),
    ("runs", "list", "--json"),
    ("runs", "show", "abc"),
    ("runs", "compare", "abc", "def"),
    ("runs", "export", "-O", "runs.csv"),
    ("artifacts", "show", "abc"),
    ("lineage", "tiny@1"),
    ("models", "list"),
    ("models", "show", "tiny@1"),
    ("models", "history", "tiny"),
    ("users", "list"),
    ("audit", "verify"),
    ("audit", "export"),
    ("monitor", "check", "tiny@1"),
    ("monitor", "alerts"),
    ("monitor", "retrains"),
    ("monitor", "report", "tiny@1"),
    ("monitor", "replay", "tiny", "--input", "in.csv", "--column", "sentence"),
    ("report", "tiny@1"),
    ("predict", "tiny@1", "--input", "in.csv", "--column", "sentence", "--output", "o.csv"),
    ("serve", "tiny@1"),
    ("deploy", "kserve", "tiny@1"),
]


def _tree(*roots: Path) -> set[Path]:
    return {p for root in roots for p in root.rglob("*")}


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_in_an_empty_folder_creates_nothing(
    cli: Invoke, project: Path, args: tuple[str, ...]
) -> None:
    (project / "in.csv").write_text("sentence\nprofit rose\n")
    state = Path(os.environ["XDG_STATE_HOME"])  # where audit keys and checkpoints go
    before = _tree(project, state)
    result = cli(*args)
    assert result.code == 1, (result.out, result.err)
    assert result.err.startswith(f"error: no assay store at {project / '.assay' / 'assay.db'}")
    assert "assay init" in result.err and "--home DIR" in result.err
    assert "ASSAY_HOME" in result.err and "ASSAY_DB_URL" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""  # no empty table, no banner
    assert _tree(project, state) == before


def test_commands_that_write_still_create_the_store(cli: Invoke, project: Path) -> None:
    assert cli("users", "list").code == 1
    assert cli("init").code == 0
    listed = cli("users", "list")
    assert listed.code == 0, listed.err
    assert "alice" in listed.out and "admin" in listed.out
    assert cli("runs", "list").code == 0  # an empty store is a store: an empty table


def test_home_pointing_at_an_empty_folder_names_that_folder(
    cli: Invoke, project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("--home", str(elsewhere), "models", "list")
    assert result.code == 1
    assert f"no assay store at {elsewhere / '.assay' / 'assay.db'}" in result.err
    assert list(elsewhere.iterdir()) == []


def test_a_postgresql_database_without_assay_tables_is_no_store(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.metadata.conftest import postgres_schema_url

    urls = postgres_schema_url()
    url = next(urls)
    monkeypatch.setenv("ASSAY_DB_URL", url)
    try:
        result = cli("runs", "list")
        assert result.code == 1
        assert "holds no assay store" in result.err and "assay init" in result.err
        assert "postgres@127.0.0.1" in result.err
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert sa.inspect(conn).get_table_names() == []
        finally:
            engine.dispose()
        assert cli("init").code == 0
        assert cli("runs", "list").code == 0
    finally:
        monkeypatch.delenv("ASSAY_DB_URL")
        next(urls, None)  # drops the schema
