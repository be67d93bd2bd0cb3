"""Opening the metadata database: engine, SQLite pragmas for concurrent runs, migrations."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from assay.core import dumps_json, loads_json
from assay.errors import MetadataError, StoreNotFoundError
from assay.metadata.audit import GENESIS, Sealer
from assay.metadata.diskfull import disk_full
from assay.metadata.head import HeadMemo
from assay.metadata.repository import MetadataStore
from assay.metadata.schema import SCHEMA_REVISION, audit_head, metadata, store_info

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "migrate", "open_metadata"]

MIGRATIONS = Path(__file__).parent / "migrations"


def open_metadata(
    url: str,
    *,
    actor: str | None = None,
    sealer: Sealer | None = None,
    create: bool = True,
) -> MetadataStore:
    """Open (creating and migrating if needed) the metadata database at ``url``.

    ``actor`` is who the audit log names for changes without a user of their own;
    ``sealer`` signs audit events and checkpoints the chain outside the database. With
    ``create`` false, a store that does not exist yet is an error and nothing is made: no
    SQLite file or folder, no tables in a server database.

    Raises:
        StoreNotFoundError: ``create`` is false and there is no assay store at ``url``.
        MetadataError: the database cannot be reached, created or migrated.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise MetadataError(
            f"invalid database URL {url!r}",
            hint="use a SQLAlchemy URL such as sqlite:///.assay/assay.db or "
            "postgresql+psycopg://user@host/db",
        ) from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    if not create and is_sqlite and (in_memory or not Path(str(parsed.database)).is_file()):
        # Connecting would create the file, so its absence is checked first.
        raise _no_store(parsed)
    if create and is_sqlite and not in_memory:
        folder = Path(str(parsed.database)).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MetadataError(
                f"cannot create the store folder {folder}: {exc.strerror}",
                hint="set ASSAY_HOME or ASSAY_DB_URL to a writable location",
            ) from None
    try:
        # Every in-memory database is a new one; a file or server is one engine per process.
        engine = _new_engine(url) if in_memory else _shared_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        hint = _driver_hint(parsed) if isinstance(exc, ImportError) else None
        raise MetadataError(f"cannot use database URL {url!r}: {exc}", hint=hint) from None
    try:
        if not create and _current_revision(engine) is None:
            raise _no_store(parsed)
        migrate(engine)
    except sa.exc.DBAPIError as exc:
        full = disk_full(parsed, exc)
        if full is not None:
            raise full from None
        raise MetadataError(
            f"cannot open the metadata database {parsed.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip()}",
            hint="check the database URL, that the server is running and that the file is "
            "an assay database",
        ) from None
    memo = HeadMemo() if in_memory else _shared_memo(url)
    return MetadataStore(engine, serialize=in_memory, actor=actor, sealer=sealer, memo=memo)


def _no_store(parsed: sa.URL) -> StoreNotFoundError:
    if parsed.get_backend_name() != "sqlite":
        server = parsed.render_as_string(hide_password=True)
        problem = f"the database {server} holds no assay store"
    elif parsed.database in (None, "", ":memory:"):
        problem = "no assay store in a new in-memory database"
    else:
        problem = f"no assay store at {parsed.database}"
    return StoreNotFoundError(
        problem,
        hint="create one with `assay init` or a first `assay run`, or point at an existing "
        "one with ASSAY_HOME or ASSAY_DB_URL",
    )


def _driver_hint(parsed: sa.URL) -> str | None:
    # The PostgreSQL driver is an extra; the hint fits an installed package and a checkout.
    if parsed.get_backend_name() != "postgresql":
        return None
    return (
        "install its driver: pip install 'assay[postgres]' "
        "(from a checkout: pip install -e '.[postgres]')"
    )


@functools.lru_cache(maxsize=16)
def _shared_engine(url: str) -> sa.Engine:
    # SQLAlchemy means an engine to live as long as the process: it holds the connection
    # pool and the compiled SQL, which a new engine would compile again (about 1 ms a
    # statement) on every `assay.run` of a notebook or benchmark. `close()` only empties
    # the pool, so a disposed engine is still good to reuse.
    return _new_engine(url)


@functools.lru_cache(maxsize=16)
def _shared_memo(url: str) -> HeadMemo:
    # One per shared engine: every store this process opens on the database knows the head
    # any of them committed last.
    return HeadMemo()


def _new_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    engine = sa.create_engine(parsed, **_engine_options(is_sqlite, in_memory))
    if is_sqlite:
        _tune_sqlite(engine)
    return engine


def _engine_options(is_sqlite: bool, in_memory: bool) -> dict[str, Any]:
    # PostgreSQL's json type refuses NaN and Infinity, which parameters and metrics may hold;
    # they are written spelled out and read back as floats, on every database alike.
    options: dict[str, Any] = {"json_serializer": dumps_json, "json_deserializer": loads_json}
    if in_memory:
        # One shared connection: every new connection to :memory: would be a new, empty database.
        options.update(connect_args={"check_same_thread": False}, poolclass=sa.pool.StaticPool)
    elif is_sqlite:
        options["connect_args"] = {"timeout": 60, "check_same_thread": False}
    else:
        options["pool_pre_ping"] = True
    return options


def _tune_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL lets readers run while one run writes; NORMAL sync is durable across process
        # crashes (SIGKILL) and only risks the last commits on power loss.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write transaction that starts deferred and later upgrades its lock can deadlock
        # against another writer, and SQLite then fails at once instead of waiting; taking
        # the write lock up front makes concurrent runs queue on busy_timeout instead.
        write = conn.get_execution_options().get("assay_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_fresh(engine: sa.Engine) -> bool:
    # An empty database gets the current tables at once and is stamped with the head
    # revision, as Alembic recommends; a test checks these tables equal the migrations'.
    with engine.execution_options(assay_write=True).begin() as conn:
        _serialise_schema_changes(conn)
        if sa.inspect(conn).get_table_names():
            return False
        metadata.create_all(conn)
        conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS))
        conn.execute(store_info.insert().values(key="store_id", value=uuid.uuid4().hex))
        version = sa.Table(
            "alembic_version",
            sa.MetaData(),
            sa.Column("version_num", sa.String(32), primary_key=True),
        )
        version.create(conn)
        conn.execute(version.insert().values(version_num=SCHEMA_REVISION))
    return True


# The key of the PostgreSQL advisory lock that schema changes take: any fixed number.
_SCHEMA_LOCK = 0x61737361795F7363  # "assay_sc"


def _serialise_schema_changes(conn: sa.Connection) -> None:
    # Processes opening an empty PostgreSQL database at once would each create the tables,
    # and all but one fail on the catalogue's unique keys; the lock lets one create them
    # and the others then find them. SQLite's immediate write transaction already does.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})


def _current_revision(engine: sa.Engine) -> str | None:
    # Asking for the version row directly is one round trip; inspecting the catalogue first
    # costs several, on every command.
    with engine.connect() as conn:
        try:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DBAPIError as exc:
            if not _is_missing_table(exc):
                raise
            return None


def _is_missing_table(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or "does not exist" in text or "doesn't exist" in text


def alembic_config() -> Config:
    """Alembic configuration pointing at assay's migrations."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic loads only when needed

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the revision this code expects; a no-op when it is there."""
    current = _current_revision(engine)
    if current == SCHEMA_REVISION:
        return
    if current is None and _create_fresh(engine):
        return
    from alembic import command  # noqa: PLC0415 - only needed on an outdated database
    from alembic.script import ScriptDirectory  # noqa: PLC0415
    from alembic.util.exc import CommandError  # noqa: PLC0415

    cfg = alembic_config()
    if current is not None:
        try:
            ScriptDirectory.from_config(cfg).get_revision(current)
        except CommandError:
            raise MetadataError(
                f"the metadata database has schema revision {current}, newer than this "
                f"assay knows ({SCHEMA_REVISION})",
                hint="upgrade assay; a database is never migrated backwards",
            ) from None
    with engine.execution_options(assay_write=True).begin() as conn:
        _serialise_schema_changes(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")  # a no-op when a process that held the lock did it
