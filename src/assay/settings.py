"""Frozen, typed settings: built at the edge (CLI, server, ``assay.run``) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]

STORE_DIR = ".assay"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the store lives and who is acting.

    Attributes:
        db_url: SQLAlchemy URL of the metadata database.
        artifact_root: local folder or fsspec URL holding artifact bytes.
        user: identity recorded on every state change; never blank.
    """

    db_url: str
    artifact_root: str
    user: str

    @classmethod
    def for_project(cls, project_dir: str | Path, *, user: str | None = None) -> Settings:
        """Embedded defaults: SQLite and a local artifact folder under ``PROJECT/.assay``."""
        root = Path(project_dir).resolve() / STORE_DIR
        return cls(
            db_url=f"sqlite:///{root / 'assay.db'}",
            artifact_root=str(root / "artifacts"),
            user=user or _default_user({}),
        )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, project_dir: str | Path | None = None
    ) -> Settings:
        """Project defaults overridden by ``ASSAY_DB_URL``, ``ASSAY_ARTIFACT_ROOT``, ``ASSAY_USER``.

        The project folder is ``project_dir`` when given, else ``ASSAY_HOME``, else the
        current directory.
        """
        env = os.environ if env is None else env
        project = Path(project_dir or env.get("ASSAY_HOME") or Path.cwd())
        base = cls.for_project(project, user=_default_user(env))
        return cls(
            db_url=env.get("ASSAY_DB_URL") or base.db_url,
            artifact_root=env.get("ASSAY_ARTIFACT_ROOT") or base.artifact_root,
            user=base.user,
        )


def _default_user(env: Mapping[str, str]) -> str:
    explicit = env.get("ASSAY_USER", "").strip()
    if explicit:
        return explicit
    try:
        import getpass  # noqa: PLC0415 - only needed when no user is given

        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    return name or f"uid-{os.getuid()}"
