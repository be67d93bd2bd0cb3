"""What made a run: user, host, process, Python, installed packages and git state."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.metadata import RunRecord
from assay.runner.gitstate import git_state

__all__ = ["Environment", "capture", "pid_alive", "start_record"]


@dataclass(frozen=True, slots=True)
class Environment:
    """The environment a run is recorded with."""

    host: str
    pid: int
    python_version: str
    packages: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None


def capture(source: Path | None) -> Environment:
    """Describe this process and the git state of the folder ``source`` lives in."""
    commit, dirty = _git_state(source.parent if source and source.is_file() else source)
    return Environment(
        host=socket.gethostname(),
        pid=os.getpid(),
        python_version=f"{platform.python_implementation()} {platform.python_version()}",
        packages=dict(_packages(tuple(sys.path))),
        git_commit=commit,
        git_dirty=dirty,
    )


@functools.lru_cache(maxsize=4)
def _packages(path: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Reading every distribution's metadata costs tens of milliseconds; the set only
    # changes when sys.path does (or pip runs in this process, which we accept).
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=list(path)):
        name = dist.metadata["Name"]
        if name and name not in found:
            found[name] = dist.version
    return tuple(sorted(found.items(), key=lambda kv: kv[0].lower()))


def _git_state(folder: Path | None) -> tuple[str | None, bool | None]:
    state = git_state(folder) if folder is not None else None
    return (state.commit, state.dirty) if state is not None else (None, None)


def start_record(
    env: Environment,
    *,
    user: str,
    pipeline: str,
    source: str,
    params: dict[str, Any],
    experiment: str,
    tags: dict[str, str],
    note: str | None,
) -> RunRecord:
    """The record of a run starting now, in this environment, with a new id."""
    return RunRecord(
        id=uuid.uuid4().hex,
        pipeline=pipeline,
        source=source,
        status="running",
        params=params,
        started_at=time.time(),
        user=user,
        host=env.host,
        pid=env.pid,
        python_version=env.python_version,
        packages=env.packages,
        git_commit=env.git_commit,
        git_dirty=env.git_dirty,
        experiment=experiment,
        tags=tags,
        note=note,
    )


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
