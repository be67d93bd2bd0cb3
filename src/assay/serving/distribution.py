"""The running assay as a package: its version, the source checkout it runs from (if it
does), and a wheel of that checkout for an image that must run the same code."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from assay.errors import AssayError, ConfigError

__all__ = ["RunningAssay", "build_wheel", "checkout_of", "running_assay"]

# Left out of the copy a wheel is built from: at the top, the store, history, environments,
# earlier build output (setuptools would pack stale files from build/) and written manifests;
# anywhere, caches.
_NOT_SOURCE_TOP = frozenset(
    {".git", ".assay", ".venv", "venv", "build", "dist", "deploy", ".mypy_cache", ".ruff_cache"}
)
_NOT_SOURCE_ANYWHERE = frozenset({"__pycache__", ".pytest_cache"})
_BUILD_TIMEOUT_S = 600
_CROSS = "\N{MULTIPLICATION SIGN}"  # how pip marks the summary of a failed build step


@dataclass(frozen=True, slots=True)
class RunningAssay:
    """The assay this process imported.

    Attributes:
        version: its version, as pip recorded it (or as the checkout's pyproject.toml says).
        checkout: the source folder it was installed from (an editable install, or one of a
            local folder) or imported from, or None for an install from a package index or
            an archive. A version from a checkout may not be on the index.
    """

    version: str
    checkout: Path | None = None


def running_assay() -> RunningAssay:
    """The version of the running assay and the source checkout it comes from, if any."""
    try:
        dist = importlib.metadata.distribution("assay")
    except importlib.metadata.PackageNotFoundError:
        return _uninstalled()
    return RunningAssay(dist.version, checkout_of(dist.read_text("direct_url.json")))


def checkout_of(direct_url: str | None) -> Path | None:
    """The local folder in pip's record of where a package came from (``direct_url.json``,
    PEP 610), or None when it came from an index, an archive or a folder that is gone."""
    if not direct_url:
        return None
    try:
        record = json.loads(direct_url)
    except ValueError:
        return None
    url = record.get("url") if isinstance(record, dict) else None
    if "dir_info" not in record or not isinstance(url, str) or not url.startswith("file:"):
        return None
    folder = Path(url2pathname(urlparse(url).path))
    return folder if (folder / "pyproject.toml").is_file() else None


def _uninstalled() -> RunningAssay:
    # Imported from a source tree on sys.path (PYTHONPATH=src) that pip never installed:
    # src/assay/serving/distribution.py -> the checkout three folders up.
    root = Path(__file__).resolve().parents[3]
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        version = str(project["project"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return RunningAssay("0")
    return RunningAssay(version, root)


def build_wheel(checkout: Path, folder: Path) -> Path:
    """Build a wheel of the assay in ``checkout`` into ``folder``; the wheel's path.

    It is built from a copy of the checkout, so nothing is written into it. pip fetches the
    build backend (setuptools) from the package index, as ``pip wheel`` always does.

    Raises:
        ConfigError: ``checkout`` holds no Python project, or ``folder`` cannot be written.
        AssayError: pip could not build the wheel.
    """
    if not (checkout / "pyproject.toml").is_file():
        raise ConfigError(
            f"cannot build a wheel of assay: {checkout} holds no pyproject.toml",
            hint="run assay from its source checkout, or install it from the package index",
        )
    with tempfile.TemporaryDirectory(prefix="assay-wheel-") as scratch:
        source, built = Path(scratch) / "source", Path(scratch) / "wheel"
        try:
            shutil.copytree(checkout, source, symlinks=True, ignore=_not_source(checkout))
        except OSError as exc:  # shutil.Error too: a file that cannot be read
            raise AssayError(
                f"cannot copy the checkout {checkout} to build a wheel: {exc}",
                hint="make the checkout's files readable",
            ) from None
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]
        try:
            proc = subprocess.run(
                [*command, "--wheel-dir", str(built), str(source)],
                capture_output=True,
                text=True,
                timeout=_BUILD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssayError(
                f"building a wheel of assay from {checkout} took over {_BUILD_TIMEOUT_S} s",
                hint="check that pip can reach the package index for setuptools",
            ) from None
        wheels = sorted(built.glob("assay-*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise AssayError(
                f"cannot build a wheel of assay from {checkout}: {_pip_reason(proc.stderr)}",
                hint="pip needs the package index for setuptools; or leave out --wheel and "
                "install a released assay from the index",
            )
        target = folder / wheels[0].name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(wheels[0], target)
        except OSError as exc:
            raise ConfigError(f"cannot write into {folder}: {exc.strerror}") from None
    return target


def _not_source(checkout: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == checkout
        return {
            name
            for name in names
            if name in _NOT_SOURCE_ANYWHERE
            or name.endswith(".egg-info")
            or (top and name in _NOT_SOURCE_TOP)
        }

    return ignore


def _pip_reason(stderr: str) -> str:
    """pip's reason in one line: its last ``ERROR:``, or the line a failed build marks."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("ERROR:"):
            return line.removeprefix("ERROR:").strip()
    for line in lines:
        if line.startswith(_CROSS):
            return line.removeprefix(_CROSS).strip()
    others = [line for line in lines if not line.startswith("note:")]
    return others[-1] if others else "pip gave no reason"
