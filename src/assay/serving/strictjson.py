"""Reading a request's JSON strictly: UTF-8, no NaN or Infinity, nested at most
``MAX_DEPTH`` deep, and no text that UTF-8 cannot hold (a lone surrogate)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson

from assay.serving.protocol import BadRequest

__all__ = ["MAX_DEPTH", "check_text", "parse_json", "unencodable"]

MAX_DEPTH = 64  # a V2 request is five levels deep; a body deeper than this is refused
_SURROGATE = re.compile("[\ud800-\udfff]")
# Where a JSON text spells a surrogate as an escape; raw UTF-8 cannot hold one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def unencodable(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (JSON's ``"\\ud800"``), so that it has no UTF-8
    form: no character, and it fails whatever writes the text down."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def check_text(value: str, where: str) -> str:
    """``value``, when it is text UTF-8 can hold.

    Raises:
        BadRequest: it holds a lone surrogate; the message names ``where``.
    """
    found = _SURROGATE.search(value) if not value.isascii() else None
    if found is not None:
        raise BadRequest(
            f"{where} is not valid Unicode text: it holds a lone surrogate "
            f"(\\u{ord(found.group()):04x}) at character {found.start()}; send text as UTF-8"
        )
    return value


def parse_json(data: bytes) -> Any:
    """``data`` as JSON: UTF-8, no NaN or Infinity, at most ``MAX_DEPTH`` lists and objects
    deep, and every text (keys too) one that UTF-8 can hold.

    Raises:
        BadRequest: (400) the body is not UTF-8 or not JSON, nests too deep, or holds a lone
            surrogate; the message says which.
    """
    # orjson reads a good body several times faster, and refuses what the checks below
    # look for but deep nesting (past 1,024 levels); whatever it refuses is read again by
    # the standard library, which accepts or names the problem as before.
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _parse_json_named(data)
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth(data.decode()) > MAX_DEPTH:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
    return value


def _parse_json_named(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: byte {exc.start} is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}".split("\n")[0]) from None
    # Each check costs about a parse again: only where it could find something.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text) is not None:
        _check_texts(value)
    return value


def _no_constant(name: str) -> Any:
    raise BadRequest(f"the body is not valid JSON: {name} is not a JSON number")


def _depth(text: str) -> int:
    """How many lists and objects deep the JSON ``text`` nests (valid JSON: its strings all
    end, so the one pass of the pattern over them is linear)."""
    # Outside its strings, JSON is ASCII; the strings hold the only brackets that are text.
    structure = np.frombuffer(_STRING.sub("", text).encode("ascii", "ignore"), dtype=np.uint8)
    opens = (structure == ord("[")) | (structure == ord("{"))
    closes = (structure == ord("]")) | (structure == ord("}"))
    steps = opens.astype(np.int32) - closes.astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _check_texts(value: Any) -> None:
    """Refuse ``value`` if a text in it (a key too) holds a lone surrogate; what the text is
    found under is worked out only then."""
    if isinstance(value, str):
        check_text(value, "the body")
    stack: list[Any] = [value] if isinstance(value, (list, dict)) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if unencodable(key):
                    check_text(key, f"a key in {_where(value, item)}")
            item = item.values()
        for child in item:
            if isinstance(child, str):
                if unencodable(child):
                    check_text(child, _where(value, child))
            elif isinstance(child, (list, dict)):
                stack.append(child)


def _where(root: Any, target: Any) -> str:
    """The path from the body to ``target`` (found by identity), as ``inputs[0].data[1]``."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        item, path = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
            if child is target:
                return here
            if isinstance(child, (list, dict)):
                stack.append((child, here))
    return "the body"
