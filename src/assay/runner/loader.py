"""Finding the pipeline a user names: a folder, a Python file, or ``module:attribute``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path

from assay.core import Pipeline
from assay.errors import AssayError, PipelineNotFoundError

__all__ = ["load_pipeline"]


def load_pipeline(target: str) -> tuple[Pipeline, Path | None]:
    """Load the pipeline at ``target`` and the file it came from.

    ``target`` is a folder holding ``pipeline.py``, a ``.py`` file, or ``package.module[:name]``.
    A file or module holding more than one pipeline needs ``:name``.

    Raises:
        PipelineNotFoundError: nothing loadable, or no single pipeline, is there.
    """
    where, _, attr = target.partition(":") if not Path(target).exists() else (target, "", "")
    path = Path(where)
    if path.is_dir():
        path = path / "pipeline.py"
        if not path.is_file():
            raise PipelineNotFoundError(
                f"no pipeline.py in folder {where}",
                hint="point at a folder with a pipeline.py, a .py file or a module:name",
            )
    if path.suffix == ".py":
        if not path.is_file():
            raise PipelineNotFoundError(
                f"no such file: {path}", hint="check the path to the pipeline file"
            )
        module = _import_file(path.resolve())
        source: Path | None = path.resolve()
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise PipelineNotFoundError(
                f"cannot find pipeline {target!r}: {exc}",
                hint="give a folder, a .py file, or an importable module:name",
            ) from None
        except AssayError:
            raise
        except Exception as exc:
            raise _import_failed(where, exc) from None
        source = Path(module.__file__).resolve() if module.__file__ else None
    found = {k: v for k, v in vars(module).items() if isinstance(v, Pipeline)}
    if attr:
        if attr not in found:
            raise PipelineNotFoundError(
                f"{where} has no pipeline named {attr!r}",
                hint=f"pipelines there: {', '.join(found) or 'none'}",
            )
        return found[attr], source
    unique = {id(p): p for p in found.values()}
    if len(unique) != 1:
        what = "no @pipeline function" if not unique else f"{len(unique)} pipelines"
        raise PipelineNotFoundError(
            f"{where} holds {what}",
            hint="decorate one function with @assay.pipeline"
            if not unique
            else f"pick one with {where}:NAME ({', '.join(found)})",
        )
    return next(iter(unique.values())), source


def _import_file(path: Path) -> object:
    # A name that is the same in every process, so recorded function names are stable.
    name = f"assay_pipeline_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PipelineNotFoundError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before executing so that introspection inside the module (dataclasses,
    # typing) finds it; the folder goes on sys.path, as `python pipeline.py` would put it,
    # so that sibling modules import.
    sys.modules[name] = module
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        raise PipelineNotFoundError(
            f"syntax error in {exc.filename or path}{line}: {exc.msg}",
            hint="fix the pipeline file",
        ) from None
    except AssayError:
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _import_failed(str(path), exc) from None
    return module


def _import_failed(what: str, exc: Exception) -> PipelineNotFoundError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    where = f" ({frames[-1].filename} line {frames[-1].lineno})" if frames else ""
    return PipelineNotFoundError(
        f"importing {what} failed: {type(exc).__name__}: {exc}{where}",
        hint="fix the error in the pipeline file or a module it imports",
    )
