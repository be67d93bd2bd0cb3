"""The credentials ``assay login`` keeps: one per server, in ``credentials.json`` in the
user's configuration folder, readable by that user only (0600, in a 0700 folder)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from assay.errors import ConfigError

__all__ = ["FILE", "Credential", "forget", "load", "save"]

FILE = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credential:
    """A token (API token or sign-on session) for one server, and whom it stands for."""

    server: str
    token: str
    user: str
    expires_at: float | None = None

    def expired(self) -> bool:
        """Whether it is past its expiry."""
        return self.expires_at is not None and self.expires_at <= time.time()


def _path(config_home: str) -> Path:
    return Path(config_home) / FILE


def _read(config_home: str) -> dict[str, dict[str, object]]:
    path = _path(config_home)
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path} cannot be read: {exc}", hint="delete it and run `assay login` again"
        ) from exc
    return found if isinstance(found, dict) else {}


def load(config_home: str, server: str) -> Credential | None:
    """The credential kept for ``server``, if any."""
    entry = _read(config_home).get(server)
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    expires = entry.get("expires_at")
    return Credential(
        server,
        str(entry["token"]),
        str(entry.get("user", "")),
        float(expires) if isinstance(expires, int | float) else None,
    )


def _write(config_home: str, entries: dict[str, dict[str, object]]) -> Path:
    folder = Path(config_home)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _path(config_home)
    partial = path.with_suffix(".tmp")
    # Created 0600 from the start: the secret is never readable by others, not even briefly.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=2)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def save(config_home: str, credential: Credential) -> Path:
    """Keep ``credential`` (replacing the one for its server); returns the file."""
    entries = _read(config_home)
    entries[credential.server] = {
        k: v for k, v in asdict(credential).items() if k != "server" and v is not None
    }
    return _write(config_home, entries)


def forget(config_home: str, server: str) -> bool:
    """Drop the credential for ``server``; False when there was none."""
    entries = _read(config_home)
    if entries.pop(server, None) is None:
        return False
    _write(config_home, entries)
    return True
