"""A model version's signature: the input columns it takes, with their types, and what it
answers (classes with probabilities, or numbers).

A **text** model takes one column of text, ``text``. A **tabular** model takes a table: the
columns scikit-learn recorded when it was fitted on a DataFrame (``feature_names_in_``),
in that order, each typed ``float64``, ``int64``, ``bool``, ``string`` or ``category``.
The signature is recorded in the version's ``info["signature"]`` when it is registered
(and so sealed by the audit chain with the rest of ``info``); a version registered before
signatures existed gets one inferred from its model when it is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.compiled import CompiledTextModel
from assay.errors import RegistryError
from assay.metadata import ModelVersionRecord

__all__ = [
    "COLUMN_TYPES",
    "TEXT_INPUT",
    "InputColumn",
    "Signature",
    "infer_signature",
    "recorded_signature",
    "version_signature",
]

# The types an input column can have. ``string`` is free text; ``category`` is text from a
# fixed set (what an encoder learned); both take strings.
COLUMN_TYPES = ("float64", "int64", "bool", "string", "category")
TEXT_INPUT = "text"  # the one column of a text model
_KINDS = ("text", "tabular")
_TASKS = ("classification", "regression")


@dataclass(frozen=True, slots=True)
class InputColumn:
    """One input column: its name and type (one of ``COLUMN_TYPES``)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Signature:
    """What a model version takes and gives.

    ``kind`` is ``text`` or ``tabular``; ``task`` is ``classification`` (labels and one
    probability per class, in ``classes`` order) or ``regression`` (one number per row).
    ``named`` is False for a tabular model fitted on an array rather than a DataFrame: its
    columns are then called ``x0``, ``x1``, ... by position.
    """

    kind: str
    task: str
    inputs: tuple[InputColumn, ...]
    classes: tuple[str, ...] = ()
    named: bool = True

    @property
    def columns(self) -> list[str]:
        """The input column names, in the order the model takes them."""
        return [c.name for c in self.inputs]

    @property
    def outputs(self) -> list[dict[str, str]]:
        """The output columns of batch scoring: ``prediction``, then for a classifier
        ``proba_<class>`` per class."""
        if self.task == "regression":
            return [{"name": "prediction", "type": "float64"}]
        probabilities = [{"name": f"proba_{c}", "type": "float64"} for c in self.classes]
        return [{"name": "prediction", "type": "string"}, *probabilities]

    def column(self, name: str) -> InputColumn | None:
        """The input column called ``name``, if the model takes one."""
        for c in self.inputs:
            if c.name == name:
                return c
        return None

    def describe(self) -> str:
        """One line for people: ``tabular regression: rooms (int64), area (float64)``."""
        answers = f" -> {', '.join(self.classes)}" if self.classes else ""
        columns = ", ".join(f"{c.name} ({c.type})" for c in self.inputs)
        positional = " by position" if not self.named else ""
        return f"{self.kind} {self.task}: {columns}{positional}{answers}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in ``info["signature"]``."""
        return {
            "kind": self.kind,
            "task": self.task,
            "inputs": [{"name": c.name, "type": c.type} for c in self.inputs],
            "outputs": self.outputs,
            "classes": list(self.classes),
            "named": self.named,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Read the JSON form back.

        Raises:
            RegistryError: it is not a signature (an unknown kind, task or column type).
        """
        try:
            inputs = tuple(InputColumn(str(c["name"]), str(c["type"])) for c in data["inputs"])
            found = cls(
                kind=str(data["kind"]),
                task=str(data["task"]),
                inputs=inputs,
                classes=tuple(str(c) for c in data.get("classes", ())),
                named=bool(data.get("named", True)),
            )
        except (KeyError, TypeError) as exc:
            raise RegistryError(
                f"malformed model signature: {exc!r} is missing or of the wrong type",
                hint="register the model again",
            ) from None
        bad = [c.type for c in inputs if c.type not in COLUMN_TYPES]
        if found.kind not in _KINDS or found.task not in _TASKS or bad or not inputs:
            raise RegistryError(
                f"malformed model signature: kind {found.kind!r}, task {found.task!r}, "
                f"column types {[c.type for c in inputs]}",
                hint=f"kinds are {', '.join(_KINDS)}; tasks {', '.join(_TASKS)}; column types "
                f"{', '.join(COLUMN_TYPES)}",
            )
        return found


def recorded_signature(record: ModelVersionRecord) -> Signature | None:
    """The signature ``record`` was registered with; ``None`` for a version registered
    before signatures were recorded.

    Raises:
        RegistryError: the recorded signature is malformed.
    """
    data = record.info.get("signature")
    return Signature.from_dict(data) if isinstance(data, Mapping) else None


def version_signature(record: ModelVersionRecord, model: Any) -> Signature:
    """``record``'s signature: the one recorded at registration, else one inferred from
    ``model`` (the version's model as loaded).

    Raises:
        RegistryError: none was recorded and the model cannot predict.
    """
    found = recorded_signature(record) or infer_signature(model)
    if found is None:
        raise RegistryError(
            f"{record.name}@{record.version} ({type(model).__name__}) cannot predict",
            hint="register a fitted scikit-learn estimator or pipeline",
        )
    return found


def infer_signature(model: Any, reference: Any = None) -> Signature | None:
    """The signature of a fitted ``model``; ``None`` when it has no ``predict``.

    A compiled text model, or a pipeline that starts with a text vectorizer (or a union of
    them), is a text model. A model that scikit-learn fitted on a DataFrame is tabular, with
    the columns it recorded; the columns a ``ColumnTransformer`` drops are not inputs. Their
    types come from ``reference`` (a DataFrame of such inputs, such as the version's
    reference data) where it has the column, else from what reads the column: an encoder's
    categories give their type, a vectorizer means ``string``, anything else ``float64``
    (scikit-learn turns other inputs into floats). A model with neither is taken for a text
    model, as every model was before signatures.
    """
    if not hasattr(model, "predict"):
        return None
    task = _task(model)
    classes = tuple(str(c) for c in getattr(model, "classes_", ())) if task != "regression" else ()
    if isinstance(model, CompiledTextModel) or _reads_text(_first_step(model)):
        return Signature("text", task, (InputColumn(TEXT_INPUT, "string"),), classes)
    names: Any = getattr(model, "feature_names_in_", None)
    count: Any = getattr(model, "n_features_in_", None)
    if names is None and not isinstance(count, int):
        return Signature("text", task, (InputColumn(TEXT_INPUT, "string"),), classes)
    named = names is not None
    columns = [str(n) for n in names] if named else [f"x{i}" for i in range(count)]
    read, dropped = _read_types(_first_step(model), columns)
    given = _reference_types(reference, columns) if named else {}
    inputs = tuple(
        InputColumn(name, _merge(read.get(name, "float64"), given.get(name)))
        for name in columns
        if name not in dropped
    )
    return Signature("tabular", task, inputs, classes, named)


def _task(model: Any) -> str:
    tags = getattr(model, "__sklearn_tags__", None)
    if callable(tags):
        kind = getattr(tags(), "estimator_type", None)
        if kind == "regressor":
            return "regression"
    return "classification" if getattr(model, "classes_", None) is not None else "regression"


def _first_step(model: Any) -> Any:
    """The part of ``model`` that first sees its input (through nested pipelines)."""
    while isinstance(getattr(model, "steps", None), list) and model.steps:
        model = model.steps[0][1]
    return model


def _reads_text(part: Any) -> bool:
    if hasattr(part, "build_analyzer"):  # CountVectorizer, TfidfVectorizer, HashingVectorizer
        return True
    union = getattr(part, "transformer_list", None)  # a FeatureUnion of text featurisers
    return (
        isinstance(union, list)
        and bool(union)
        and all(_reads_text(_first_step(t)) for _, t in union)
    )


def _read_types(first: Any, columns: list[str]) -> tuple[dict[str, str], set[str]]:
    """The type each column's reader implies, and the columns nothing reads."""
    transformers = getattr(first, "transformers_", None)  # a fitted ColumnTransformer
    if not isinstance(transformers, list):
        return {name: _fed_type(first, i) for i, name in enumerate(columns)}, set()
    types: dict[str, str] = {}
    dropped: set[str] = set()
    for _, part, selected in transformers:
        names = _selected(selected, columns)
        if isinstance(part, str) and part == "drop":
            dropped.update(names)
            continue
        for i, name in enumerate(names):
            types[name] = _fed_type(part, i)
    return types, dropped - set(types)


def _selected(selected: Any, columns: list[str]) -> list[str]:
    """A ColumnTransformer's column selection as names."""
    if isinstance(selected, str | int):
        selected = [selected]
    if isinstance(selected, slice):
        return columns[selected]
    picked = list(selected)
    if picked and all(_is_bool(s) for s in picked):
        return [c for c, keep in zip(columns, picked, strict=False) if keep]
    return [columns[int(s)] if not isinstance(s, str) else s for s in picked]


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _fed_type(part: Any, position: int) -> str:
    """The type of the ``position``-th column ``part`` reads, by what it learned."""
    if isinstance(part, str):  # "passthrough": straight into the estimator
        return "float64"
    for step in _parts(part):
        if hasattr(step, "build_analyzer"):
            return "string"
        categories = getattr(step, "categories_", None)
        if isinstance(categories, list) and position < len(categories):
            found = _dtype_type(getattr(categories[position], "dtype", None))
            return "category" if found == "string" else found
    return "float64"


def _parts(part: Any) -> Sequence[Any]:
    steps = getattr(part, "steps", None)
    return [s for _, s in steps] if isinstance(steps, list) else [part]


def _reference_types(reference: Any, columns: list[str]) -> dict[str, str]:
    dtypes = getattr(reference, "dtypes", None)
    if dtypes is None:
        return {}
    return {str(k): _dtype_type(v) for k, v in dtypes.items() if str(k) in columns}


def _dtype_type(dtype: Any) -> str:
    if str(dtype) == "category":
        return "category"
    kind = getattr(dtype, "kind", "O")
    return {"f": "float64", "i": "int64", "u": "int64", "b": "bool"}.get(kind, "string")


def _merge(read: str, given: str | None) -> str:
    """The reference's type wins, except that text an encoder reads is a category."""
    if given is None:
        return read
    return "category" if given == "string" and read == "category" else given
