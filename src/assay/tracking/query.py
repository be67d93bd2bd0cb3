"""The run filter language: ``metrics.macro_f1 > 0.8 and params.C = 1``, and sort orders.

Grammar (keywords in any case)::

    filter     := clause ("or" clause)*
    clause     := condition ("and" condition)*
    condition  := "(" filter ")" | FIELD OP VALUE
    FIELD      := metrics.NAME | params.NAME | tags.NAME | id | pipeline | status
                  | experiment | user | host | started_at | ended_at
    OP         := = | != | < | <= | > | >= | like
    VALUE      := number | 'text' | "text" | word | true | false

A metric is its last logged value, compared with a number only (anything else is an
error). A number compares numbers, text compares text; ``like`` takes SQL wildcards (``%``,
``_``). A run without the field never matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assay.errors import ParameterError
from assay.metadata.search import ATTRIBUTES, All, AnyOf, Condition, Filter, Order

__all__ = ["parse_order", "parse_where"]

_SCOPES = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'[^']*'|"[^"]*")
    | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    | (?P<op><=|>=|!=|==|=|<|>)
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][\w.\-]*)
    )""",
    re.VERBOSE,
)
_HINT = (
    "write conditions like `metrics.macro_f1 > 0.8 and params.C = 1` (see `assay runs list --help`)"
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    at: int


def parse_where(text: str) -> Filter:
    """The filter ``text`` describes.

    Raises:
        ParameterError: the text is not a filter; the message says where and why.
    """
    parser = _Parser(text, _tokens(text))
    node = parser.filter()
    if parser.peek() is not None:
        parser.fail(f"unexpected {parser.peek().text!r}")  # type: ignore[union-attr]
    return node


def parse_order(text: str) -> list[Order]:
    """Sort orders from ``-metrics.macro_f1, params.C`` (``-`` for largest first).

    Raises:
        ParameterError: a field is unknown.
    """
    orders = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        descending = part.startswith("-")
        scope, name = _field(part.lstrip("+-").strip(), text, 0)
        orders.append(Order(scope, name, descending))
    return orders


def _tokens(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            _fail(text, pos, f"cannot read {text[pos:].strip()[:20]!r}")
        assert match is not None  # _fail raised otherwise
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            self.fail("the filter ends too early")
        assert token is not None
        self.i += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.i += 1
            return True
        return False

    def fail(self, problem: str) -> None:
        token = self.peek()
        _fail(self.text, token.at if token else len(self.text), problem)

    def filter(self) -> Filter:
        parts = [self.clause()]
        while self.keyword("or"):
            parts.append(self.clause())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def clause(self) -> Filter:
        parts = [self.condition()]
        while self.keyword("and"):
            parts.append(self.condition())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def condition(self) -> Filter:
        token = self.take()
        if token.kind == "paren" and token.text == "(":
            inner = self.filter()
            close = self.peek()
            if close is None or close.text != ")":
                self.fail("a '(' is never closed")
            self.i += 1
            return inner
        field = token
        if field.kind != "word":
            _fail(self.text, field.at, f"expected a field name, found {field.text!r}")
        scope, name = _field(field.text, self.text, field.at)
        op = self.take()
        if op.kind == "op":
            operator = "=" if op.text == "==" else op.text
        elif op.kind == "word" and op.text.lower() == "like":
            operator = "like"
        else:
            _fail(self.text, op.at, f"expected =, !=, <, <=, >, >= or like, found {op.text!r}")
        token = self.take()
        value = _value(token, self.text)
        if scope == "metrics" and (operator == "like" or not _is_number(value)):
            # Metrics are numbers: any other value would silently match no run at all.
            clause = self.text[field.at : token.at + len(token.text)]
            why = "like compares text" if operator == "like" else f"{token.text} is not a number"
            _fail(self.text, token.at, f"in {clause!r}, {why}, and metrics are numbers")
        return Condition(scope, name, operator, value)


def _field(word: str, text: str, at: int) -> tuple[str, str]:
    head, dot, rest = word.partition(".")
    if dot and head.lower() in _SCOPES and rest:
        scope = _SCOPES[head.lower()]
        if scope == "attributes" and rest not in ATTRIBUTES:
            _fail(text, at, f"runs have no attribute {rest!r}")
        return scope, rest
    if word in ATTRIBUTES:
        return "attributes", word
    _fail(
        text,
        at,
        f"unknown field {word!r}: use metrics.NAME, params.NAME, tags.NAME or one of "
        + ", ".join(ATTRIBUTES),
    )
    raise AssertionError  # unreachable: _fail raised


def _value(token: _Token, text: str) -> Any:
    if token.kind == "number":
        number = float(token.text)
        return int(number) if number.is_integer() and "." not in token.text else number
    if token.kind == "string":
        return token.text[1:-1]
    if token.kind == "word":
        lowered = token.text.lower()
        return {"true": True, "false": False}.get(lowered, token.text)
    _fail(text, token.at, f"expected a value, found {token.text!r}")
    raise AssertionError  # unreachable: _fail raised


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fail(text: str, at: int, problem: str) -> None:
    raise ParameterError(f"bad filter at character {at + 1} of {text!r}: {problem}", hint=_HINT)
