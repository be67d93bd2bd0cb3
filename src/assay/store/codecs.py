"""Codecs turn values into bytes and back: Parquet, NumPy, JSON, skops (never pickle), array
bundles, files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from assay.errors import CodecError
from assay.store.bundles import BundleCodec

__all__ = [
    "Codec",
    "CodecRegistry",
    "FileCodec",
    "JsonCodec",
    "NumpyCodec",
    "ParquetCodec",
    "SkopsCodec",
    "default_codecs",
]


class Codec(Protocol):
    """Encodes one family of Python values to bytes and decodes them back."""

    name: str
    kind: str

    def accepts(self, value: Any) -> bool:
        """True when this codec can encode ``value``."""

    def encode(self, value: Any) -> bytes:
        """The bytes of ``value``."""

    def decode(self, data: bytes) -> Any:
        """The value held in ``data``."""


def _loaded(module: str) -> Any:
    # A value can only be an instance of a library's class if that library is imported,
    # so codecs never import pandas, NumPy or scikit-learn just to look at a value.
    return sys.modules.get(module)


class JsonCodec:
    """JSON-able values: None, bool, int, float (NaN and inf kept), str, lists and dicts."""

    name = "json"
    kind = "value"

    def accepts(self, value: Any) -> bool:
        return _json_able(value)

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


def _json_able(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(_json_able(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v) for k, v in value.items())
    return False


class ParquetCodec:
    """pandas DataFrames as Parquet."""

    name = "parquet"
    kind = "dataset"

    def accepts(self, value: Any) -> bool:
        pd = _loaded("pandas")
        return pd is not None and isinstance(value, pd.DataFrame)

    def encode(self, value: Any) -> bytes:
        buf = io.BytesIO()
        try:
            value.to_parquet(buf)
        except (ValueError, TypeError, ImportError) as exc:
            raise CodecError(
                f"cannot write the DataFrame as Parquet: {exc}",
                hint="give every column one type and string column names",
            ) from None
        return buf.getvalue()

    def decode(self, data: bytes) -> Any:
        import pandas as pd  # noqa: PLC0415

        return pd.read_parquet(io.BytesIO(data))


class NumpyCodec:
    """NumPy arrays in ``.npy`` format, without pickled objects."""

    name = "numpy"
    kind = "array"

    def accepts(self, value: Any) -> bool:
        np = _loaded("numpy")
        return np is not None and isinstance(value, np.ndarray) and value.dtype != object

    def encode(self, value: Any) -> bytes:
        import numpy as np  # noqa: PLC0415

        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return buf.getvalue()

    def decode(self, data: bytes) -> Any:
        import numpy as np  # noqa: PLC0415

        return np.load(io.BytesIO(data), allow_pickle=False)


class SkopsCodec:
    """scikit-learn estimators through skops; only an explicit set of types is loaded.

    skops itself trusts scikit-learn's estimators and the NumPy and SciPy types they hold.
    Any other type in a model file (a function such as ``builtins.exec`` inside a
    ``FunctionTransformer``, a class of the user's own) is refused unless its full name is
    in ``trusted_types``: loading it could run code chosen by whoever wrote the file.
    """

    name = "skops"
    kind = "model"

    def __init__(self, trusted_types: Iterable[str] = ()) -> None:
        self.trusted_types = frozenset(trusted_types)

    def accepts(self, value: Any) -> bool:
        base = _loaded("sklearn.base")
        return base is not None and isinstance(value, base.BaseEstimator)

    def encode(self, value: Any) -> bytes:
        import zipfile  # noqa: PLC0415

        import skops.io as sio  # noqa: PLC0415

        _forget_object_ids(value)
        try:
            data = sio.dumps(value, compression=zipfile.ZIP_STORED)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"cannot save the model with skops: {exc}") from None
        return _deterministic_zip(data)

    def decode(self, data: bytes) -> Any:
        import skops.io as sio  # noqa: PLC0415
        from skops.io.exceptions import UntrustedTypesFoundException  # noqa: PLC0415

        # One pass: skops refuses, while loading, any type beyond its own and ours (a
        # separate scan first would read the whole file twice, over a second for sesame).
        try:
            return sio.loads(data, trusted=sorted(self.trusted_types))
        except UntrustedTypesFoundException as exc:
            refused = ", ".join(sorted(set(re.findall(r"'([^']+)'", str(exc))))) or str(exc)
            raise CodecError(
                f"model artifact holds types that are not trusted: {refused}",
                hint="only the types skops trusts (scikit-learn, NumPy, SciPy) are loaded",
            ) from None
        except Exception as exc:
            raise CodecError(f"not a readable skops model file: {exc}") from None


def _forget_object_ids(estimator: Any) -> None:
    # scikit-learn's text vectorizers cache id(stop_words) to skip a repeated check; an id()
    # differs in every process, so it would give equal models different digests. Without
    # it scikit-learn just checks again.
    parts = [estimator]
    if hasattr(estimator, "get_params"):
        parts += list(estimator.get_params(deep=True).values())
    for part in parts:
        if "_stop_words_id" in getattr(part, "__dict__", {}):
            del part._stop_words_id


def _deterministic_zip(data: bytes) -> bytes:
    # skops names entries after id() of the saved objects and stamps them with the current
    # time, so the same model would get a new digest on every save. Renumbering ids in order
    # of appearance and fixing timestamps makes equal models equal artifacts.
    import zipfile  # noqa: PLC0415

    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    ids: dict[int, int] = {}
    schema = _renumber(schema, ids)
    files = {name: source.read(name) for name in source.namelist() if name != "schema.json"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        entries = {"schema.json": json.dumps(schema, sort_keys=True).encode()}
        entries.update({_renamed(name, ids): content for name, content in files.items()})
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, entries[name])
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int]) -> Any:
    if isinstance(node, list):
        return [_renumber(v, ids) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "__id__" and isinstance(value, int):
            out[key] = ids.setdefault(value, len(ids) + 1)
        elif key == "file" and isinstance(value, str):
            out[key] = _renamed(value, ids)
        else:
            out[key] = _renumber(value, ids)
    return out


def _renamed(name: str, ids: dict[int, int]) -> str:
    stem, dot, ext = name.partition(".")
    if stem.isdigit():
        return f"{ids.setdefault(int(stem), len(ids) + 1)}{dot}{ext}"
    return name


class FileCodec:
    """A file, given as a ``pathlib.Path``; stored as its bytes, loaded as a read-only copy.

    Loading writes the bytes once to ``<folder>/<sha256>`` (default: a folder in the system
    temporary directory) and returns that path, so a step reading a file always gets a path.
    """

    name = "file"
    kind = "file"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / "assay-files"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Path)

    def encode(self, value: Any) -> bytes:
        try:
            return Path(value).read_bytes()
        except OSError as exc:
            raise CodecError(f"cannot read file {value}: {exc.strerror}") from None

    def decode(self, data: bytes) -> Any:
        path = self.folder / hashlib.sha256(data).hexdigest()
        if not path.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            partial.write_bytes(data)
            partial.chmod(0o444)
            os.replace(partial, path)
        return path


class CodecRegistry:
    """Codecs in order of preference; the first that accepts a value encodes it."""

    def __init__(self, codecs: Iterable[Codec]) -> None:
        self._codecs = list(codecs)
        self._by_name = {c.name: c for c in self._codecs}

    def get(self, name: str) -> Codec:
        """The codec called ``name``.

        Raises:
            CodecError: no such codec.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise CodecError(
                f"no codec named {name!r}", hint=f"codecs are: {', '.join(self._by_name)}"
            ) from None

    def for_value(self, value: Any) -> Codec:
        """The first codec that accepts ``value``.

        Raises:
            CodecError: no codec accepts it.
        """
        for codec in self._codecs:
            if codec.accepts(value):
                return codec
        hint = (
            "return a DataFrame, NumPy array, scikit-learn model, pathlib.Path or JSON-able value"
        )
        raise CodecError(f"no codec can store a value of type {type(value).__name__}", hint=hint)


def default_codecs() -> CodecRegistry:
    """The built-in codecs: Parquet, NumPy, skops, array bundles, file, JSON."""
    return CodecRegistry(
        [ParquetCodec(), NumpyCodec(), SkopsCodec(), BundleCodec(), FileCodec(), JsonCodec()]
    )
