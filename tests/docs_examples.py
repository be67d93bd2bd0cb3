"""Finding the `assay ...` commands that Markdown pages show, and checking each against the
real command-line parser without running anything (used by tests/test_docs.py).

Commands are found in shell code blocks (```bash lines, ```console lines after `$ `, and
lines of plain ``` blocks that start with `assay`) and in inline `assay ...` code spans.
Each one is parsed by the Click command Typer builds from `assay.cli.build_app()`, one
`make_context` per level. A synopsis (`assay models show REF [--json]`) and an inline span
that only names a command (`assay runs show`, `assay models promote --to`) are checked for
what they do say: the command exists and so does every option named.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import typer
import typer.core

# Typer vendors Click (0.29 and later); these are the errors its parser raises.
from typer._click import exceptions as click_errors

from assay.cli.app import HOISTED

__all__ = [
    "PAGES",
    "ROOT",
    "Example",
    "anchors",
    "assay_commands",
    "check",
    "examples_in",
    "pages_examples",
    "pages_links",
]

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_FENCES = {"bash", "sh", "shell", "zsh"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
# A stand-in for a value the reader supplies: RUN_ID, $RUN, ${RUN}, <digest>, ...
PLACEHOLDER = re.compile(r"\$\{?\w+\}?|<[^>]*>|\.\.\.|[A-Z][A-Z0-9_]*")
# `[--json]`, `[REF...]`, `(--grid ... | --range ...)`: a usage line, not a command.
SYNOPSIS = re.compile(r"[\[(](-|[A-Z])|\]\.\.\.")
REDIRECTS = {">", ">>", "<", "<<", ">&", "&>", ">|"}
COMMAND_START = re.compile(r"^(\$\s+)?([A-Za-z_]\w*=\S*\s+)*(python3? -m )?assay\s")

Source = Literal["block", "inline"]


@dataclass(frozen=True)
class Example:
    """One line of a page that holds an `assay` command."""

    page: str
    line: int
    text: str
    source: Source

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def examples_in(page: str, markdown: str) -> list[Example]:
    """The `assay` commands of one Markdown page, in page order."""
    found: list[Example] = []
    prose: list[str] = []  # fenced lines blanked, so offsets still give line numbers
    fence: str | None = None
    block: list[tuple[int, str]] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        marker = FENCE.match(line)
        if marker and fence is None:
            fence, block = marker.group(2).lower(), []
        elif marker:
            found += _block_examples(page, fence or "", block)
            fence = None
        elif fence is not None:
            block.append((number, line))
        prose.append(line if fence is None and not marker else "")
    text = "\n".join(prose)
    for span in CODE_SPAN.finditer(text):
        content = span.group(2)
        if "\n\n" in content:  # a code span never crosses a paragraph
            continue
        content = " ".join(content.replace("\\|", "|").split())
        if COMMAND_START.match(content + " ") and content != "assay":
            line = text.count("\n", 0, span.start()) + 1
            found.append(Example(page, line, content, "inline"))
    return sorted(found, key=lambda e: e.line)


def _block_examples(page: str, fence: str, block: list[tuple[int, str]]) -> Iterator[Example]:
    plain = fence in ("", "text")
    for number, line in _logical_lines(block):
        prompted = line.startswith("$ ") and (fence == "console" or plain)
        command = line[2:] if prompted else line
        if fence == "console" and not prompted:
            continue  # output
        if fence in SHELL_FENCES or prompted:
            if re.search(r"(^|[\s;&|(])assay\s", command):
                yield Example(page, number, command, "block")
        elif plain and COMMAND_START.match(command + " "):
            yield Example(page, number, command, "block")


def _logical_lines(block: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines with their `\\` continuations joined, numbered by their first line."""
    start: int | None = None
    parts: list[str] = []
    for number, line in block:
        start = number if start is None else start
        stripped = line.strip()
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        yield start, " ".join(p for p in parts if p)
        start, parts = None, []
    if start is not None:
        yield start, " ".join(p for p in parts if p)


def assay_commands(shell: str) -> Iterator[list[str]]:
    """The arguments of each `assay` command in a shell line (pipes, `&&`, `$( )` split)."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segment: list[str] = []
    words = list(lexer)
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in REDIRECTS:
            if segment and segment[-1].isdigit():
                segment.pop()  # the descriptor of 2>&1
            skip = True
        elif set(word) <= set("();|&"):
            yield from _arguments(segment)
            segment = []
        else:
            segment.append(word)
    yield from _arguments(segment)


def _arguments(segment: list[str]) -> Iterator[list[str]]:
    while segment and ASSIGNMENT.match(segment[0]):  # ASSAY_USER=bob assay ...
        segment = segment[1:]
    if segment[:1] == ["assay"]:
        yield segment[1:]
    elif segment[:1] in (["python"], ["python3"]) and segment[1:3] == ["-m", "assay"]:
        yield segment[3:]


# -- checking one command against the parser --------------------------------------------


@dataclass
class Scan:
    """What a walk over the words found: the command reached and its positional words."""

    path: list[str]
    positionals: list[str]
    problems: list[str]
    complete: bool  # False when it stopped at a placeholder or alternative command names


def scan(root: typer.core.TyperGroup, words: list[str]) -> Scan:
    """Resolve sub-commands and look up every option named, without the parser."""
    command: object = root
    result = Scan(["assay"], [], [], True)
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            takes_value = _option(command, name)
            if takes_value is None and name in HOISTED:  # the root's, after any command
                takes_value = _option(root, name)
            if takes_value is None:
                result.problems.append(f"'{' '.join(result.path)}' has no option {name}")
            elif takes_value and "=" not in word:
                position += 1
        elif isinstance(command, typer.core.TyperGroup):
            names = word.split("|")
            unknown = [n for n in names if n and n not in command.commands]
            if PLACEHOLDER.fullmatch(word):  # COMMAND: any of them
                unknown = []
            if PLACEHOLDER.fullmatch(word) or unknown or len(names) > 1:
                # the parser says more about one unknown name than this walk can
                result.complete = len(names) == 1 and not PLACEHOLDER.fullmatch(word)
                where = " ".join(result.path)
                result.problems += [f"'{where}' has no command '{n}'" for n in unknown]
                return result
            command = command.commands[word]
            result.path.append(word)
        else:
            result.positionals.append(word)
    return result


def _option(command: object, name: str) -> bool | None:
    """Whether option NAME of COMMAND takes a value; None when it has no such option."""
    if name == "--help":
        return False
    for param in getattr(command, "params", []):
        if isinstance(param, typer.core.TyperOption) and name in (
            *param.opts,
            *param.secondary_opts,
        ):
            return not param.is_flag
    return None


def parse(root: typer.core.TyperGroup, words: list[str], lenient: bool) -> str | None:
    """Click's message when the words do not parse; None when they do.

    LENIENT forgives only what is missing: a command that names no arguments is a mention.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # --help prints, then exits
            _make_contexts(root, words)
    except typer.Exit:
        return None
    except click_errors.UsageError as exc:
        missing = isinstance(exc, (click_errors.MissingParameter, click_errors.NoArgsIsHelpError))
        missing |= isinstance(exc, click_errors.BadOptionUsage) and "requires" in exc.message
        missing |= exc.message == "Missing command."
        if lenient and missing:
            return None
        if isinstance(exc, click_errors.NoArgsIsHelpError):
            return f"{exc.ctx.command_path if exc.ctx else 'assay'}: a command is missing"
        path = exc.ctx.command_path if exc.ctx else "assay"
        return f"{path}: {exc.format_message()}"
    return None


def _make_contexts(root: typer.core.TyperGroup, words: list[str]) -> None:
    command: object = root
    ctx = root.make_context("assay", list(words))
    while isinstance(command, typer.core.TyperGroup):
        # a group keeps the sub-command and its arguments apart, as Click's invoke reads them
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            raise click_errors.UsageError("Missing command.", ctx)
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub


def check(root: typer.core.TyperGroup, example: Example) -> list[str]:
    """What is wrong with the example's commands; empty when they all parse."""
    text = _without_comment(example.text) if example.source == "block" else example.text
    if SYNOPSIS.search(text):
        return scan(root, _synopsis_words(text)).problems
    try:
        if example.source == "inline":
            words = shlex.split(re.sub(r"\s*\|\s*", "|", text.removeprefix("$ ")))
            commands = [alt for args in _arguments(words) for alt in _alternatives(args)]
        else:
            commands = list(assay_commands(text))
    except ValueError as exc:  # an unclosed quote
        return [f"cannot split it into shell words: {exc}"]
    problems: list[str] = []
    for words in commands:
        found = scan(root, words)
        if not found.complete:
            problems += found.problems
            continue
        mention = example.source == "inline" and (not found.positionals or words[-1] == "...")
        problem = parse(root, words, lenient=mention)
        if problem and any(PLACEHOLDER.fullmatch(w) for w in words):
            # RUN_ID, N, PORT: a placeholder stands for a value of the right type
            stand_in = ["1" if PLACEHOLDER.fullmatch(w) else w for w in words]
            problem = parse(root, stand_in, lenient=mention) and problem
        if problem:
            problems.append(problem)
    return problems


def _without_comment(shell: str) -> str:
    quote = ""
    for index, char in enumerate(shell):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or shell[index - 1].isspace()):
            return shell[:index].rstrip()
    return shell


def _alternatives(words: list[str]) -> list[list[str]]:
    """`assay users grant|revoke|list` names three commands."""
    for index, word in enumerate(words):
        if re.fullmatch(r"[a-z-]+(\|[a-z-]*)+", word):
            return [[*words[:index], name] for name in word.split("|") if name]
    return [words]


def _synopsis_words(text: str) -> list[str]:
    text = re.sub(r"\s*\|\s*", "|", text.removeprefix("$ "))
    try:
        raw = shlex.split(text)
    except ValueError:
        raw = text.split()
    while raw and ASSIGNMENT.match(raw[0]):
        raw = raw[1:]
    words: list[str] = []
    for token in raw[1:]:
        bare = re.sub(r"[\[\](){}]", "", token).removesuffix("...")
        parts = bare.split("|")
        words += [p for p in parts if p] if any(p.startswith("-") for p in parts) else [bare]
    return [w for w in words if w]


def pages_examples() -> list[Example]:
    """Every command shown in the README and under docs/."""
    found: list[Example] = []
    for page in PAGES:
        found += examples_in(page.relative_to(ROOT).as_posix(), page.read_text())
    return found


# -- links --------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """GitHub's ids of a page's headings: lower case, punctuation dropped, spaces to -."""
    found: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading and not fenced:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            number = 1
            unique = slug
            while unique in found:
                unique, number = f"{slug}-{number}", number + 1
            found.add(unique)
    return found


def pages_links() -> list[tuple[str, int, str]]:
    """Each relative link of the README and docs/: page, line, target."""
    found = []
    for page in PAGES:
        fenced = False
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if FENCE.match(line):
                fenced = not fenced
            if not fenced:
                found += [(page, number, m.group(1)) for m in LINK.finditer(line)]
    return [
        (page.relative_to(ROOT).as_posix(), number, target)
        for page, number, target in found
        if not re.match(r"[a-z]+:", target)  # https:, mailto:
    ]
