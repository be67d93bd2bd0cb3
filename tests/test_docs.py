"""The README and docs/ are right: every `assay ...` command they show parses with the real
command line (see tests/docs_examples.py), every link leads to a file and heading of the
repository, the error reference covers every error, the schema revision quoted is the one
this assay writes, and the README's pipeline runs as the README says."""

from __future__ import annotations

import ast
import os
import re
import shlex
from pathlib import Path

import pytest
import typer
import typer.core
import typer.main

from assay import errors
from assay.cli import build_app
from assay.metadata.schema import SCHEMA_REVISION
from tests.cli.conftest import run_main
from tests.docs_examples import (
    PAGES,
    ROOT,
    Example,
    anchors,
    assay_commands,
    check,
    examples_in,
    pages_examples,
    pages_links,
)

# -- the tests ---------------------------------------------------------------------------


EXAMPLES = pages_examples()


def _ids(examples: list[Example]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for example in examples:
        seen[example.where] = seen.get(example.where, 0) + 1
        count = seen[example.where]
        ids.append(example.where if count == 1 else f"{example.where}#{count}")
    return ids


@pytest.fixture(scope="module")
def root() -> typer.core.TyperGroup:
    command = typer.main.get_command(build_app())
    assert isinstance(command, typer.core.TyperGroup)
    return command


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_the_command_parses(root: typer.core.TyperGroup, example: Example) -> None:
    problems = check(root, example)
    assert not problems, f"{example.where}: `{example.text}`: " + "; ".join(problems)


def test_commands_are_found_on_every_page_that_shows_them() -> None:
    pages = {e.page for e in EXAMPLES}
    assert {"README.md", "docs/cli.md", "docs/index.md", "docs/howto/sesame.md"} <= pages
    assert sum(e.source == "block" for e in EXAMPLES) > 100
    assert sum(e.source == "inline" for e in EXAMPLES) > 100


# -- the checker itself ------------------------------------------------------------------

SAMPLE = """\
See `assay runs show RUN_ID`, `assay runs show` and `assay users grant|revoke|list`.

```bash
ASSAY_USER=bob assay models approve sesame@1 --comment "ok"   # four eyes (--to ALIAS)
assay sweep examples/sesame --grid alpha=1e-4,3e-4 \\
    --objective metrics.macro_f1
RUN=$(assay run examples/sesame --json | jq -r .run_id) && assay runs show "$RUN" 2>&1
```

```console
$ assay monitor close ALERT_ID --reason "promoted"
closed alert 1
```

```
assay models promote REF [--to ALIAS] [--reason TEXT]
error: no approved request (ask with `assay models request-promotion`)
```
"""


def test_commands_are_found_in_blocks_and_code_spans() -> None:
    found = [(e.line, e.source, e.text) for e in examples_in("sample.md", SAMPLE)]
    assert found == [
        (1, "inline", "assay runs show RUN_ID"),
        (1, "inline", "assay runs show"),
        (1, "inline", "assay users grant|revoke|list"),
        (
            4,
            "block",
            'ASSAY_USER=bob assay models approve sesame@1 --comment "ok"   # four eyes (--to ALIAS)',
        ),
        (
            5,
            "block",
            "assay sweep examples/sesame --grid alpha=1e-4,3e-4 --objective metrics.macro_f1",
        ),
        (
            7,
            "block",
            'RUN=$(assay run examples/sesame --json | jq -r .run_id) && assay runs show "$RUN" 2>&1',
        ),
        (11, "block", 'assay monitor close ALERT_ID --reason "promoted"'),
        (16, "block", "assay models promote REF [--to ALIAS] [--reason TEXT]"),
    ]
    assert list(assay_commands(found[5][2])) == [
        ["run", "examples/sesame", "--json"],
        ["runs", "show", "$RUN"],
    ]


def test_examples_that_are_right_pass(root: typer.core.TyperGroup) -> None:
    for example in examples_in("sample.md", SAMPLE):
        assert check(root, example) == [], example


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # docs/howto/deploy-kserve.md once said this; the alias goes after --to
        ("assay models promote sesame@4 production", "unexpected extra argument(s) (production)"),
        ("assay modles list", "No such command 'modles'"),
        ("assay runs list --wher 'metrics.x > 1'", "No such option: --wher"),
        ("assay predict sesame@1 --input in.csv --column text", "Missing option '--output'"),
        ("assay runs show", "Missing argument 'run'"),
        ("assay serve sesame@1 --port many", "Invalid value for '--port'"),
        ("assay monitor close", "Missing argument"),
        ("assay runs", "a command is missing"),
        ("assay models promote REF [--too ALIAS]", "'assay models promote' has no option --too"),
    ],
)
def test_a_wrong_command_in_a_block_fails_with_the_parsers_message(
    root: typer.core.TyperGroup, text: str, message: str
) -> None:
    [example] = examples_in("bad.md", f"```bash\n{text}\n```\n")
    problems = check(root, example)
    assert len(problems) == 1 and message in problems[0], problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("assay artifacts list", "No such command 'list'"),
        ("assay models promote sesame@4 production", "unexpected extra argument"),
        ("assay runs show --jsn", "No such option: --jsn"),
        ("assay users grant|revok", "No such command 'revok'"),
    ],
)
def test_a_wrong_code_span_fails(root: typer.core.TyperGroup, text: str, message: str) -> None:
    [example] = examples_in("bad.md", f"Use `{text}` here.\n")
    problems = check(root, example)
    assert problems and message in problems[0], problems


def test_docs_quote_the_schema_revision_this_assay_writes() -> None:
    quoted = {
        (page.relative_to(ROOT).as_posix(), match.group(1))
        for page in PAGES
        for match in re.finditer(r"newer than this assay\s+knows\s+\((\d{4})\)", page.read_text())
    }
    assert quoted, "store.md shows the error for a database newer than this assay"
    stale = sorted(q for q in quoted if q[1] != SCHEMA_REVISION)
    assert not stale, f"the newest migration is {SCHEMA_REVISION}; these quote another: {stale}"


# -- the README's pipeline ----------------------------------------------------------------


def _readme_pipeline() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert match, "the README shows a pipeline"
    return match.group(1)


def test_the_readmes_pipeline_imports_only_what_it_uses_and_pandas_in_its_steps() -> None:
    tree = ast.parse(_readme_pipeline())
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert imported - used == set()
    at_load = [
        alias.name
        for node in tree.body  # module level, outside `if TYPE_CHECKING:`
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert "pandas" not in at_load


def test_the_readmes_pipeline_runs_as_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my_pipeline.py").write_text(_readme_pipeline())
    rows = "\n".join(f"{i},{i % 3}" for i in range(10))
    (tmp_path / "data.csv").write_text(f"x,y\n{rows}\n")
    for key in [k for k in os.environ if k.startswith("ASSAY_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ASSAY_USER", "alice")
    monkeypatch.chdir(tmp_path)
    command = re.search(r"`assay run (my_pipeline\.py [^`]*)`", (ROOT / "README.md").read_text())
    assert command, "the README says how to run it"

    first = run_main(capsys, "run", *shlex.split(command.group(1)))
    again = run_main(capsys, "run", *shlex.split(command.group(1)))

    assert first.code == 0, first.err
    assert "2 steps, 0 reused" in first.out
    assert again.code == 0, again.err
    assert "2 steps, 2 reused" in again.out


LINKS = pages_links()


@pytest.mark.parametrize("link", LINKS, ids=[f"{p}:{n} {t}" for p, n, t in LINKS])
def test_a_link_leads_to_a_file_of_the_repository_and_its_heading(
    link: tuple[str, int, str],
) -> None:
    page, line, target = link
    path, _, anchor = target.partition("#")
    file = (ROOT / page).parent / path if path else ROOT / page
    where = f"{page}:{line}: ({target})"
    assert file.resolve().is_relative_to(ROOT), f"{where} leaves the repository"
    assert file.exists(), f"{where}: no such file"
    if anchor and file.suffix == ".md":
        assert anchor in anchors(file.read_text()), f"{where}: no heading #{anchor}"


def _command_paths(command: object, path: str) -> list[str]:
    if isinstance(command, typer.core.TyperGroup):
        return [p for n, c in command.commands.items() for p in _command_paths(c, f"{path} {n}")]
    return [path]


def test_the_cli_reference_names_every_command(root: typer.core.TyperGroup) -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    missing = [p for p in _command_paths(root, "assay") if p not in reference]
    assert not missing, f"docs/cli.md does not describe {missing}"


def test_the_error_reference_has_a_section_for_every_error() -> None:
    headings = set(re.findall(r"^#+ `(\w+)`", (ROOT / "docs" / "errors.md").read_text(), re.M))
    missing = sorted(set(errors.__all__) - headings)
    assert not missing, f"docs/errors.md has no section for {missing}"
