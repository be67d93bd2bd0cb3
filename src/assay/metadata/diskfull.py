"""A database error that says the disk under it is full, told as such: where the database
is, and that nothing recorded is lost."""

from __future__ import annotations

import sqlalchemy as sa

from assay.errors import MetadataError

__all__ = ["disk_full"]

# What database errors say when the disk is full or a file may not grow any more.
_DISK_FULL = (
    "database or disk is full",
    "disk i/o error",
    "no space left",
    "could not extend file",
    "file too large",
    "disk quota",
)


def disk_full(url: sa.URL, exc: sa.exc.DBAPIError) -> MetadataError | None:
    """The error to show for ``exc`` when it says the disk under the database at ``url`` is
    full (or a file may not grow); None when it says something else."""
    text = str(exc.orig).strip()
    if not any(mark in text.lower() for mark in _DISK_FULL):
        return None
    where = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        where = str(url.database)
    return MetadataError(
        f"cannot write the metadata database {where}: {text}",
        hint="free space on the disk that holds it (or check that disk), or move the store "
        "(ASSAY_HOME, ASSAY_DB_URL); the change that failed was not recorded, and nothing "
        "recorded before it is lost",
    )
