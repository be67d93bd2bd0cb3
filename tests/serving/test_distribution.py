"""The running assay as a package: where it came from, and a wheel of its checkout."""

from __future__ import annotations

import importlib.metadata
import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from assay.errors import AssayError, ConfigError
from assay.serving.distribution import build_wheel, checkout_of, running_assay

# A PEP 517 build backend inside the project, so that pip builds a wheel without the package
# index: the wheel lists every file the build saw, in seen.txt.
BACKEND = """
import os
import zipfile

NAME = "assay-9.9"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    seen = sorted(
        os.path.relpath(os.path.join(folder, name), ".").replace(os.sep, "/")
        for folder, _, names in os.walk(".")
        for name in names
    )
    wheel = NAME + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as archive:
        archive.writestr("seen.txt", "\\n".join(seen))
        info = NAME + ".dist-info/"
        archive.writestr(info + "METADATA", "Metadata-Version: 2.1\\nName: assay\\nVersion: 9.9\\n")
        archive.writestr(
            info + "WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        )
        archive.writestr(info + "RECORD", "")
    return wheel
"""


def fake_checkout(folder: Path, backend: str = BACKEND) -> Path:
    """A checkout of assay whose wheel records what was copied, beside a store and history."""
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        textwrap.dedent("""\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [project]
            name = "assay"
            version = "9.9"
            """)
    )
    (folder / "backend.py").write_text(backend)
    for path in (
        "src/assay/__init__.py",
        "src/assay/build/__init__.py",  # a package named like setuptools' output folder
        "src/assay/__pycache__/x.pyc",
        ".assay/assay.db",
        ".git/HEAD",
        ".venv/bin/python",
        "build/lib/assay/stale.py",
        "dist/assay-0.1-py3-none-any.whl",
        "deploy/toy/Dockerfile",
    ):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text("x")
    return folder


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_wheel_is_built_from_a_copy_of_the_source_only(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path / "assay")
    before = tree(checkout)
    wheel = build_wheel(checkout, tmp_path / "context")
    assert wheel == tmp_path / "context" / "assay-9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        seen = set(archive.read("seen.txt").decode().splitlines())
    assert {"pyproject.toml", "src/assay/__init__.py", "src/assay/build/__init__.py"} <= seen
    # Not the store, history, environments, caches, earlier builds or written manifests.
    assert not {p for p in seen if p.split("/")[0] in {".assay", ".git", ".venv", "build"}}
    assert not {p for p in seen if "__pycache__" in p or p.split("/")[0] in {"dist", "deploy"}}
    assert tree(checkout) == before  # nothing written into the checkout


def test_a_failed_build_is_one_clean_error(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path / "assay", backend="raise SystemExit('no backend here')")
    with pytest.raises(AssayError, match="cannot build a wheel of assay from") as info:
        build_wheel(checkout, tmp_path / "context")
    assert "did not run successfully" in info.value.message  # pip's reason, on the line
    assert "\n" not in info.value.message and info.value.hint
    assert not (tmp_path / "context").exists()


def test_a_folder_without_a_project_builds_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holds no pyproject.toml"):
        build_wheel(tmp_path, tmp_path / "context")
    assert not (tmp_path / "context").exists()


def test_the_running_version_is_the_installed_one() -> None:
    assert running_assay().version == importlib.metadata.version("assay")


def test_the_checkout_is_the_local_folder_pip_installed_from(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'assay'\n")
    url = tmp_path.as_uri()
    assert checkout_of(json.dumps({"url": url, "dir_info": {"editable": True}})) == tmp_path
    assert checkout_of(json.dumps({"url": url, "dir_info": {}})) == tmp_path


@pytest.mark.parametrize(
    "record",
    [
        None,  # installed from a package index: pip writes no record
        "",
        "not json",
        "[]",
        json.dumps({"url": "https://example.org/assay-0.1.tar.gz", "archive_info": {}}),
        json.dumps({"url": "https://github.com/x/assay", "vcs_info": {"vcs": "git"}}),
        json.dumps({"url": "file:///no/such/folder", "dir_info": {"editable": True}}),
    ],
)
def test_no_checkout_without_a_local_project_folder(record: str | None) -> None:
    assert checkout_of(record) is None
