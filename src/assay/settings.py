"""Frozen, typed settings: built at the edge (CLI, server, ``assay.run``) and passed down."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Settings", "default_audit_dir", "default_user"]

STORE_DIR = ".assay"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the store lives and who is acting.

    Attributes:
        db_url: SQLAlchemy URL of the metadata database.
        artifact_root: local folder or fsspec URL holding artifact bytes.
        user: identity recorded on every state change; never blank.
        audit_key: file holding the Ed25519 key that signs audit events, kept apart from
            the store so that whoever can write the database cannot forge the log.
        audit_checkpoints: append-only file, or fsspec folder URL, receiving the audit
            chain's head hash after each change, also apart from the store.
    """

    db_url: str
    artifact_root: str
    user: str
    audit_key: str = ""
    audit_checkpoints: str = ""

    def __post_init__(self) -> None:
        # Anchors default to a folder of the user's state directory named after the database,
        # so two stores never share them and none lives inside the store it protects.
        if not (self.audit_key and self.audit_checkpoints):
            folder = default_audit_dir(self.db_url, os.environ)
            if not self.audit_key:
                object.__setattr__(self, "audit_key", str(folder / "signing.key"))
            if not self.audit_checkpoints:
                object.__setattr__(self, "audit_checkpoints", str(folder / "checkpoints.jsonl"))

    @classmethod
    def for_project(cls, project_dir: str | Path, *, user: str | None = None) -> Settings:
        """Embedded defaults: SQLite and a local artifact folder under ``PROJECT/.assay``."""
        root = Path(project_dir).resolve() / STORE_DIR
        return cls(
            db_url=f"sqlite:///{root / 'assay.db'}",
            artifact_root=str(root / "artifacts"),
            user=user or default_user({}),
        )

    def as_user(self, user: str) -> Settings:
        """The same store, acting as ``user``."""
        name = user.strip()
        return replace(self, user=name) if name else self

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, project_dir: str | Path | None = None
    ) -> Settings:
        """Project defaults overridden by ``ASSAY_DB_URL``, ``ASSAY_ARTIFACT_ROOT``,
        ``ASSAY_USER``, ``ASSAY_AUDIT_DIR`` (or ``ASSAY_AUDIT_KEY`` and
        ``ASSAY_AUDIT_CHECKPOINTS`` one by one).

        The project folder is ``project_dir`` when given, else ``ASSAY_HOME``, else the
        current directory.
        """
        env = os.environ if env is None else env
        project = Path(project_dir or env.get("ASSAY_HOME") or Path.cwd())
        base = cls.for_project(project, user=default_user(env))
        db_url = env.get("ASSAY_DB_URL") or base.db_url
        folder = Path(env["ASSAY_AUDIT_DIR"]) if env.get("ASSAY_AUDIT_DIR") else None
        folder = folder or default_audit_dir(db_url, env)
        return cls(
            db_url=db_url,
            artifact_root=env.get("ASSAY_ARTIFACT_ROOT") or base.artifact_root,
            user=base.user,
            audit_key=env.get("ASSAY_AUDIT_KEY") or str(folder / "signing.key"),
            audit_checkpoints=env.get("ASSAY_AUDIT_CHECKPOINTS")
            or str(folder / "checkpoints.jsonl"),
        )


def default_audit_dir(db_url: str, env: Mapping[str, str]) -> Path:
    """Where a store's audit anchors live by default: ``$XDG_STATE_HOME/assay/audit/ID``."""
    state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/state")
    return Path(state) / "assay" / "audit" / hashlib.sha256(db_url.encode()).hexdigest()[:16]


def default_user(env: Mapping[str, str]) -> str:
    """``ASSAY_USER`` when set, else the operating-system user; never blank."""
    explicit = env.get("ASSAY_USER", "").strip()
    if explicit:
        return explicit
    try:
        import getpass  # noqa: PLC0415 - only needed when no user is given

        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    return name or f"uid-{os.getuid()}"
