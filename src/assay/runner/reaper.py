"""Runs whose process is gone: recorded as killed, so that no listing shows them running."""

from __future__ import annotations

import socket

from assay.runner.environment import pid_alive
from assay.workspace import Workspace

__all__ = ["reap_dead_runs"]


def reap_dead_runs(ws: Workspace) -> int:
    """Record as ``killed`` (audited) the runs of this host still ``running`` whose process
    no longer exists; returns how many. Runs of other hosts cannot be checked from here and
    keep their status until a command there looks."""
    host = socket.gethostname()
    dead = [pid for pid in ws.metadata.running_pids(host) if not pid_alive(pid)]
    return ws.metadata.reap_runs(host, dead) if dead else 0
