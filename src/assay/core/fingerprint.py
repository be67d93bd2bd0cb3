"""Step fingerprints: a hash of what decides a step's result, its code and the code it calls."""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["fingerprint"]

_CONSTANT_TYPES = (int, float, complex, str, bytes, bool, type(None))


def fingerprint(func: Callable[..., Any], version: str | None) -> str:
    """sha256 over ``func``'s code, the code and constants it reaches, and ``version``.

    Code is compared as its syntax tree without docstrings, so comments, docstrings and
    formatting do not change a fingerprint. Followed are the module-level names the function
    uses (and, recursively, those its helpers use): functions and classes defined in the
    step's own folder, and plain constants. Libraries are not followed; bump ``version``
    when a step's result depends on something not seen here.
    """
    digest = hashlib.sha256()
    home = _folder(func)
    _feed(func, digest, set(), home)
    digest.update(b"\0version\0" + (version or "").encode())
    return digest.hexdigest()


def _feed(obj: Any, digest: Any, seen: set[int], home: Path | None) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    digest.update(_code_text(obj))
    func = obj if isinstance(obj, types.FunctionType) else None
    if func is None:
        return
    namespace = func.__globals__
    for name in sorted(_global_names(func.__code__)):
        if name not in namespace:
            continue
        value = getattr(namespace[name], "func", namespace[name])  # a Step: follow its function
        if isinstance(value, types.FunctionType | type) and _is_local(value, home):
            digest.update(f"\0{name}\0".encode())
            _feed(value, digest, seen, home)
        elif _is_constant(value):
            digest.update(f"\0{name}={value!r}\0".encode())


def _code_text(obj: Any) -> bytes:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):
        # Without source (a REPL, a zip import) the bytecode and its constants still
        # change whenever the behaviour does.
        code = getattr(obj, "__code__", None)
        if not isinstance(code, types.CodeType):
            return repr(obj).encode()
        return code.co_code + repr(code.co_consts).encode()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False).encode()


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _folder(obj: Any) -> Path | None:
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return None
    return Path(source).resolve().parent if source else None


def _is_local(value: Any, home: Path | None) -> bool:
    where = _folder(value)
    if home is None or where is None or "site-packages" in where.parts:
        return False
    return where == home or where.is_relative_to(home)


def _is_constant(value: Any) -> bool:
    if isinstance(value, _CONSTANT_TYPES):
        return True
    if isinstance(value, tuple | frozenset | list):
        return all(_is_constant(v) for v in value)
    if isinstance(value, dict):
        return all(_is_constant(k) and _is_constant(v) for k, v in value.items())
    return False
