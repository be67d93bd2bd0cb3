"""The Alembic migrations and the fast path for a new database build the same schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from assay.metadata import open_metadata
from assay.metadata.engine import alembic_config
from assay.metadata.schema import SCHEMA_REVISION, metadata


def upgraded(path: Path, *, then_downgrade: bool = False) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if then_downgrade:
            command.downgrade(cfg, "base")
    return engine


def test_schema_revision_is_the_migrations_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_REVISION


def test_migrations_build_exactly_the_declared_tables(tmp_path: Path) -> None:
    engine = upgraded(tmp_path / "m.db")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_fast_path_builds_the_same_tables_and_stamps_the_head(tmp_path: Path) -> None:
    store = open_metadata(f"sqlite:///{tmp_path / 'fresh.db'}")
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert MigrationContext.configure(conn).get_current_revision() == SCHEMA_REVISION
    store.close()


def test_downgrade_removes_every_table(tmp_path: Path) -> None:
    engine = upgraded(tmp_path / "d.db", then_downgrade=True)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    store = open_metadata(f"sqlite:///{tmp_path / 'w.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()
