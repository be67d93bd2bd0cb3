"""Model registry records: registering versions and finding them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa

from assay.errors import MetadataError
from assay.metadata import rows as rec
from assay.metadata import schema as t
from assay.metadata.audit import Sealer, append_audit
from assay.metadata.records import ModelVersionRecord, Registration
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
                    record, new = register_in(conn, registration)
                    if new:
                        append_audit(
                            conn, registration.user, [registered_entry(record)], self.sealer
                        )
                    return record
            except sa.exc.IntegrityError as exc:
                raise_unless_version_taken(exc)
        raise MetadataError(f"could not register model {registration.name!r}: too much contention")

    def model_versions(self, name: str | None = None) -> list[ModelVersionRecord]:
        """Registered versions, by model name then version."""
        mv = t.model_versions
        q = sa.select(mv).order_by(mv.c.name, mv.c.version)
        if name is not None:
            q = q.where(mv.c.name == name)
        with self._read() as conn:
            return [rec.version(r) for r in conn.execute(q).mappings()]

    def model_version(self, name: str, version: int | None) -> ModelVersionRecord | None:
        """Version ``version`` of ``name``, or its latest when ``version`` is None."""
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
