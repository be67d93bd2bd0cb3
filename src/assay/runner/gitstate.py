"""The git commit of a folder and whether its working tree differs from it, remembered
between runs for as long as nothing git looks at has changed on disk."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitState", "git_state"]

# Above this many tracked files, checking them all costs about what `git status` does.
MAX_TRACKED = 5000


@dataclass(frozen=True, slots=True)
class GitState:
    """The commit checked out (None: no commit yet) and whether anything differs from it."""

    commit: str | None
    dirty: bool


@dataclass(frozen=True, slots=True)
class _Layout:
    root: str
    paths: tuple[str, ...]  # HEAD, refs, index and every tracked file
    ignored: frozenset[str]  # folders git ignores, never walked


@dataclass(frozen=True, slots=True)
class _Known:
    state: GitState
    stamp: tuple[object, ...]
    layout: _Layout


_lock = threading.Lock()
_known: dict[str, _Known] = {}


def git_state(folder: Path) -> GitState | None:
    """The git state of ``folder`` (None: not in a git work tree, or git is missing).

    Running ``git status`` costs a process start per run, which dominates a small tracked
    run; the answer is reused while HEAD, the refs, the index, every tracked file and every
    folder git does not ignore (a new untracked file changes its folder) are unchanged on
    disk. A stamp taken before and after ``git status`` must agree, or nothing is kept.
    """
    key = str(folder.resolve())
    with _lock:
        known = _known.get(key)
    if known is not None and _stamp(known.layout) == known.stamp:
        return known.state
    layout = _layout(folder)
    before = _stamp(layout) if layout else None
    state = _status(folder)
    if state is not None and layout is not None and before == _stamp(layout):
        with _lock:
            _known[key] = _Known(state, before, layout)
    return state


def _git(folder: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _status(folder: Path) -> GitState | None:
    # Untracked files count: a run made from files not in the commit cannot be reproduced
    # from the commit alone.
    out = _git(folder, "status", "--porcelain=v2", "--branch", "--untracked-files=normal")
    if out is None:
        return None
    commit = None
    dirty = False
    for line in out.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ").strip()
            commit = None if oid == "(initial)" else oid
        elif not line.startswith("#"):
            dirty = True
    return GitState(commit, dirty)


def _layout(folder: Path) -> _Layout | None:
    """What stands for the git state on disk; None when too big to be worth checking."""
    top = _git(folder, "rev-parse", "--show-toplevel", "--absolute-git-dir")
    if top is None:
        return None
    root, git_dir = top.splitlines()[:2]
    # From the top: in a subfolder, ls-files would list only what is below it.
    files = _git(Path(root), "ls-files", "-z")
    ignored = _git(
        Path(root), "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    if files is None or ignored is None:
        return None
    tracked = [os.path.join(root, f) for f in files.split("\0") if f]
    if len(tracked) > MAX_TRACKED:
        return None
    head = os.path.join(git_dir, "HEAD")
    meta = [head, os.path.join(git_dir, "index"), os.path.join(git_dir, "packed-refs")]
    try:
        ref = Path(head).read_text().strip()
    except OSError:
        return None
    if ref.startswith("ref: "):
        meta.append(os.path.join(git_dir, ref.removeprefix("ref: ")))
    skip = {os.path.join(root, d.rstrip("/")) for d in ignored.split("\0") if d.endswith("/")}
    skip.add(git_dir)
    return _Layout(root, (*meta, *tracked), frozenset(skip))


def _stamp(layout: _Layout) -> tuple[object, ...]:
    stamp: list[object] = []
    for path in layout.paths:
        try:
            st = os.lstat(path)
        except OSError:
            stamp.append(None)
            continue
        stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
    # Every folder git looks into: a file added or removed anywhere changes one of them.
    for current, dirs, _ in os.walk(layout.root):
        dirs[:] = [d for d in dirs if os.path.join(current, d) not in layout.ignored]
        stamp.append((current, os.lstat(current).st_mtime_ns))
    return tuple(stamp)
