"""What changes a step's fingerprint: its code, its helpers' code, constants; not comments."""

from __future__ import annotations

import importlib.util
import itertools
import textwrap
from pathlib import Path

import pytest

from assay.core import Step

MODULE = '''
import json

from assay import step

LABELS = ("a", "b")


@step
def work(x: int) -> int:
    """Docstring."""
    # a comment
    return helper(x) + len(LABELS) + len(json.dumps(x))


def helper(x: int) -> int:
    return x * 2
'''

_counter = itertools.count()


def load(tmp_path: Path, source: str) -> Step:
    folder = tmp_path / f"m{next(_counter)}"
    folder.mkdir()
    path = folder / "steps.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(f"fp_{folder.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    work = module.work
    assert isinstance(work, Step)
    return work


@pytest.fixture
def base(tmp_path: Path) -> str:
    return load(tmp_path, MODULE).fingerprint


def test_the_same_code_gives_the_same_fingerprint(tmp_path: Path, base: str) -> None:
    assert load(tmp_path, MODULE).fingerprint == base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("return x * 2", "return x * 3"),  # a helper defined below the step
        ('LABELS = ("a", "b")', 'LABELS = ("a", "b", "c")'),  # a module constant
        ("+ len(LABELS)", "- len(LABELS)"),  # the step itself
        ("@step\n", '@step(version="2")\n'),  # the declared version
    ],
)
def test_what_the_step_depends_on_changes_it(tmp_path: Path, base: str, old: str, new: str) -> None:
    assert old in MODULE
    assert load(tmp_path, MODULE.replace(old, new)).fingerprint != base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"""Docstring."""', '"""Another docstring."""'),
        ("# a comment", "# another comment"),
        ("import json\n", "import json  # the standard library is not followed\n"),
        ("    return x * 2\n", "    return x * 2\n\n\nUNUSED = 5\n"),
    ],
)
def test_what_does_not_matter_does_not_change_it(
    tmp_path: Path, base: str, old: str, new: str
) -> None:
    assert old in MODULE
    assert load(tmp_path, MODULE.replace(old, new)).fingerprint == base
