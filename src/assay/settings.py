"""Frozen, typed settings: built at the edge (CLI, server, ``assay.run``) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "default_audit_home", "default_config_home", "default_user"]

STORE_DIR = ".assay"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the store lives and who is acting.

    Attributes:
        db_url: SQLAlchemy URL of the metadata database.
        artifact_root: local folder or fsspec URL holding artifact bytes.
        user: identity recorded on every state change; never blank.
        audit_key: the file holding the Ed25519 key that signs audit events, when one key
            is set explicitly; empty (the default) finds each chain's key by its key id in
            ``audit_home/keys``. Either way the key is kept apart from the store, so that
            whoever can write the database cannot forge the log.
        audit_checkpoints: one append-only file, or fsspec folder URL, receiving the audit
            chain's head hash after each change, when set explicitly; empty (the default)
            gives each chain its own log in ``audit_home/checkpoints``. Apart from the store.
        audit_home: the folder of the default keyring and checkpoint logs:
            ``$XDG_STATE_HOME/assay`` (``~/.local/state/assay``) unless given.
        server_url: a team server to work through instead of the store (``ASSAY_SERVER_URL``
            or ``--server``); empty: the store itself.
        server_token: the credential to present to it (``ASSAY_TOKEN``); empty: the one
            ``assay login`` kept for that server in ``config_home``.
        config_home: the folder of the user's assay configuration (``assay login``'s
            credentials): ``$XDG_CONFIG_HOME/assay`` (``~/.config/assay``) unless given.
    """

    db_url: str
    artifact_root: str
    user: str
    audit_key: str = ""
    audit_checkpoints: str = ""
    audit_home: str = ""
    server_url: str = ""
    server_token: str = field(default="", repr=False)
    config_home: str = ""

    def __post_init__(self) -> None:
        # Keys and checkpoints are found by the chain they belong to (its key id and first
        # event), never by the store's path: a moved or copied store keeps its anchors, and
        # none of them lives inside the store it protects.
        if not self.audit_home:
            object.__setattr__(self, "audit_home", str(default_audit_home(os.environ)))
        if not self.config_home:
            object.__setattr__(self, "config_home", str(default_config_home(os.environ)))

    @classmethod
    def for_project(cls, project_dir: str | Path, *, user: str | None = None) -> Settings:
        """Embedded defaults: SQLite and a local artifact folder under ``PROJECT/.assay``."""
        root = Path(project_dir).resolve() / STORE_DIR
        return cls(
            db_url=f"sqlite:///{root / 'assay.db'}",
            artifact_root=str(root / "artifacts"),
            user=user or default_user({}),
        )

    def with_server(self, url: str | None) -> Settings:
        """The same settings, working through the team server at ``url`` (None: unchanged)."""
        return replace(self, server_url=url.strip().rstrip("/")) if url else self

    def here(self) -> Settings:
        """The same settings on the store itself, never through a team server (what the
        server itself and its administration use)."""
        return replace(self, server_url="", server_token="")

    def as_user(self, user: str) -> Settings:
        """The same store, acting as ``user``."""
        name = user.strip()
        return replace(self, user=name) if name else self

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, project_dir: str | Path | None = None
    ) -> Settings:
        """Project defaults overridden by ``ASSAY_DB_URL``, ``ASSAY_ARTIFACT_ROOT``,
        ``ASSAY_USER``, ``ASSAY_AUDIT_DIR`` (one key and one checkpoint log in that folder)
        or ``ASSAY_AUDIT_KEY`` and ``ASSAY_AUDIT_CHECKPOINTS`` one by one; ``XDG_STATE_HOME``
        moves the default keyring and checkpoint logs; ``ASSAY_SERVER_URL`` and
        ``ASSAY_TOKEN`` point at a team server, ``XDG_CONFIG_HOME`` moves the configuration.

        The project folder is ``project_dir`` when given, else ``ASSAY_HOME``, else the
        current directory.
        """
        env = os.environ if env is None else env
        project = Path(project_dir or env.get("ASSAY_HOME") or Path.cwd())
        base = cls.for_project(project, user=default_user(env))
        db_url = env.get("ASSAY_DB_URL") or base.db_url
        folder = Path(env["ASSAY_AUDIT_DIR"]) if env.get("ASSAY_AUDIT_DIR") else None
        return cls(
            db_url=db_url,
            artifact_root=env.get("ASSAY_ARTIFACT_ROOT") or base.artifact_root,
            user=base.user,
            audit_key=env.get("ASSAY_AUDIT_KEY") or (str(folder / "signing.key") if folder else ""),
            audit_checkpoints=env.get("ASSAY_AUDIT_CHECKPOINTS")
            or (str(folder / "checkpoints.jsonl") if folder else ""),
            audit_home=str(default_audit_home(env)),
            server_url=env.get("ASSAY_SERVER_URL", "").strip().rstrip("/"),
            server_token=env.get("ASSAY_TOKEN", "").strip(),
            config_home=str(default_config_home(env)),
        )

    def audit_key_location(self) -> str:
        """Where the signing key is: the explicit file, or the keyring's pattern."""
        return self.audit_key or str(Path(self.audit_home) / "keys" / "<key id>.key")

    def audit_checkpoint_location(self) -> str:
        """Where checkpoints go: the explicit log, or the per-chain pattern."""
        return self.audit_checkpoints or str(
            Path(self.audit_home) / "checkpoints" / "<key id>-<event 1 hash>.jsonl"
        )


def default_audit_home(env: Mapping[str, str]) -> Path:
    """The folder of the default audit keyring and checkpoints: ``$XDG_STATE_HOME/assay``."""
    state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/state")
    return Path(state) / "assay"


def default_config_home(env: Mapping[str, str]) -> Path:
    """The folder of the user's assay configuration: ``$XDG_CONFIG_HOME/assay``."""
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config) / "assay"


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
