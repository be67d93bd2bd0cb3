"""Model registry records: registering versions and finding them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa

from assay.errors import GovernanceError, MetadataError, RecordNotFoundError
from assay.metadata import queries
from assay.metadata import rows as rec
from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, Sealer, append_audit
from assay.metadata.records import ModelVersionRecord, Registration
from assay.metadata.state import STATE_TABLES, lock_state
from assay.metadata.writes import (
    RETRIES,
    raise_unless_version_taken,
    register_in,
    registered_entry,
)

__all__ = ["ModelRecords"]


class ModelRecords:
    """The model part of the metadata store; it reads and writes through the store's
    ``_read`` and ``_write`` connections."""

    # Provided by MetadataStore: a read connection and a write transaction.
    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    sealer: Sealer | None

    def register_version(self, registration: Registration) -> ModelVersionRecord:
        """Add an artifact as the next version of a model; the same digest is not added twice."""
        for _ in range(RETRIES):
            try:
                with self._write() as conn:
                    lock_state(conn, ["model_versions"], self.sealer)
                    record, new = register_in(conn, registration)
                    if new:
                        append_audit(
                            conn, registration.user, [registered_entry(record)], self.sealer
                        )
                    return record
            except sa.exc.IntegrityError as exc:
                raise_unless_version_taken(exc)
        raise MetadataError(f"could not register model {registration.name!r}: too much contention")

    def model_versions(
        self, name: str | None = None, *, archived: bool = True
    ) -> list[ModelVersionRecord]:
        """Registered versions, by model name then version; ``archived=False`` leaves the
        archived ones out."""
        mv = t.model_versions
        if name is not None and archived:  # a model's page, the most asked: built once
            statement = queries.VERSIONS_OF_MODEL
        else:
            statement = sa.select(mv).order_by(mv.c.name, mv.c.version)
            if name is not None:
                statement = statement.where(mv.c.name == sa.bindparam("name"))
            if not archived:
                statement = statement.where(mv.c.archived_at.is_(None))
        with self._read() as conn:
            return [rec.version(r) for r in conn.execute(statement, {"name": name}).mappings()]

    def model_version(self, name: str, version: int | None) -> ModelVersionRecord | None:
        """Version ``version`` of ``name``, or its highest number (archived or not) when
        ``version`` is None."""
        mv = t.model_versions
        q = sa.select(mv).where(mv.c.name == name)
        q = q.where(mv.c.version == version) if version is not None else q
        q = q.order_by(mv.c.version.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return rec.version(row) if row is not None else None

    def model_names(self) -> list[str]:
        """Every registered model name."""
        with self._read() as conn:
            return list(
                conn.execute(sa.select(t.models.c.name).order_by(t.models.c.name)).scalars()
            )

    def versions_of_digests(self, digests: Sequence[str]) -> list[ModelVersionRecord]:
        """Model versions registered from any of ``digests``."""
        mv = t.model_versions
        with self._read() as conn:
            rows = conn.execute(
                sa.select(mv)
                .where(mv.c.digest.in_(list(digests)))
                .order_by(mv.c.name, mv.c.version)
            ).mappings()
            return [rec.version(r) for r in rows]

    def archive_version(
        self, name: str, version: int, *, by: str, reason: str
    ) -> ModelVersionRecord:
        """Archive a version in one transaction, audited as ``model.archived``.

        Raises:
            GovernanceError: it is archived already, or an alias points at it.
        """
        return self._set_archived(name, version, by=by, reason=reason, archive=True)

    def restore_version(
        self, name: str, version: int, *, by: str, reason: str
    ) -> ModelVersionRecord:
        """Bring an archived version back in one transaction, audited as ``model.restored``.

        Raises:
            GovernanceError: it is not archived.
        """
        return self._set_archived(name, version, by=by, reason=reason, archive=False)

    def _set_archived(
        self, name: str, version: int, *, by: str, reason: str, archive: bool
    ) -> ModelVersionRecord:
        mv, a = t.model_versions, t.model_aliases
        ref = f"{name}@{version}"
        where = (mv.c.name == name, mv.c.version == version)
        with self._write() as conn:
            lock_state(conn, STATE_TABLES, self.sealer)  # what the decision read, too
            row = conn.execute(sa.select(mv).where(*where).with_for_update()).mappings().first()
            if row is None:
                raise RecordNotFoundError(f"no model version {ref}")
            current = rec.version(row)
            if archive and current.archived_at is not None:
                raise GovernanceError(
                    f"{ref} is archived already (by {current.archived_by}: "
                    f"{current.archive_reason})",
                    hint=f"`assay models restore {ref} --reason ...` brings it back",
                )
            if not archive and current.archived_at is None:
                raise GovernanceError(f"{ref} is not archived", hint="nothing to restore")
            held = conn.execute(
                sa.select(a.c.alias).where(a.c.name == name, a.c.version == version)
            ).scalars()
            aliases = sorted(held)
            if archive and aliases:
                raise GovernanceError(
                    f"{ref} holds the alias {', '.join(aliases)}; an archived version cannot",
                    hint=f"move {name}@{aliases[0]} to another version first, with "
                    "`assay models promote` or `assay models rollback`",
                )
            values = (
                {"archived_at": time.time(), "archived_by": by, "archive_reason": reason}
                if archive
                else {"archived_at": None, "archived_by": None, "archive_reason": None}
            )
            conn.execute(mv.update().where(*where).values(values))
            action = "model.archived" if archive else "model.restored"
            payload = {"reason": reason, "at": values["archived_at"]}
            append_audit(conn, by, [AuditEntry(action, f"model:{ref}", payload)], self.sealer)
            return rec.version({**row, **values})
