"""A registry model loaded for serving: its version, signature, classes and batch predict
functions (texts on the hot path; tables of the signature's columns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import DataError, RegistryError
from assay.metadata import ModelVersionRecord
from assay.registry import (
    TEXT_INPUT,
    InputColumn,
    Signature,
    columns_from_json,
    columns_from_rows,
    load_scorer,
    version_signature,
)
from assay.serving.answered import answer_rows
from assay.serving.table import Table
from assay.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LoadedModel", "Predictions", "Table", "load_version"]


# What a model is taken to be when nothing says otherwise: what every served model was
# before signatures, a classifier of one text column.
_TEXT = (InputColumn(TEXT_INPUT, "string"),)


@dataclass(frozen=True, slots=True)
class Predictions:
    """A batch's answers, row by row. For a classifier ``predictions`` are labels and
    ``probabilities`` one list per row in ``classes`` order; for a regressor
    ``predictions`` are numbers and ``probabilities`` is ``None``."""

    predictions: list[Any]
    probabilities: list[list[float]] | None
    classes: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, as V1 answers and the prediction log keep outputs (see
        ``answer_rows``)."""
        return answer_rows(self.predictions, self.probabilities, self.classes)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """One model version in memory. Immutable: a swap replaces the whole object, so a
    request that started on it finishes on it.

    ``signature`` says what the model takes (``None``: a text classifier, as every served
    model was before signatures). Texts go through ``predict``, the server's hot path;
    tables through ``validate`` (or ``validate_rows``) then ``predict_table``.
    """

    record: ModelVersionRecord
    model: Any
    classes: tuple[str, ...]
    form: str = "model"  # "compiled": NumPy arrays; "model": the registered object itself
    signature: Signature | None = None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def platform(self) -> str:
        """What answers: ``assay-linear-text`` or ``assay-linear`` (a compiled form of a
        text or a tabular model) or ``sklearn``."""
        if self.form != "compiled":
            return "sklearn"
        return "assay-linear" if self.kind == "tabular" else "assay-linear-text"

    @property
    def lineage_id(self) -> str:
        """The model artifact's digest: ``assay lineage sha256:<it>`` shows what made it."""
        return f"sha256:{self.record.digest}"

    @property
    def kind(self) -> str:
        """``text`` (one text column) or ``tabular`` (the signature's columns)."""
        return self.signature.kind if self.signature is not None else "text"

    @property
    def task(self) -> str:
        """``classification`` (labels and probabilities) or ``regression`` (numbers)."""
        return self.signature.task if self.signature is not None else "classification"

    @property
    def inputs(self) -> tuple[InputColumn, ...]:
        """The input columns, in the order the model takes them."""
        return self.signature.inputs if self.signature is not None else _TEXT

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        """Labels and class probabilities (in ``classes`` order) for a batch of texts.

        Raises:
            DataError: the model is a regressor (it gives no classes; use ``predict_table``).
        """
        import numpy as np  # noqa: PLC0415

        if not self.classes:
            raise DataError(
                f"{self.name}@{self.version} is a regressor: it gives numbers, not labels",
                hint="score it with predict_table",
            )
        proba = np.asarray(self.model.predict_proba(list(texts)), dtype=float)
        labels = [self.classes[i] for i in proba.argmax(axis=1)]
        return labels, proba.tolist()

    def validate(self, columns: Mapping[str, Sequence[Any]]) -> Table:
        """The table of ``columns`` (input column name -> one JSON value per row), checked
        against the signature; see ``assay.registry.columns_from_json``.

        Raises:
            SignatureError: a column missing or unknown, a value of the wrong type, columns
                of different lengths, no rows. The message names the column and its type.
        """
        return Table(columns_from_json(self._signature(), columns, model=self._ref()))

    def validate_rows(self, rows: Sequence[Mapping[str, Any]]) -> Table:
        """As ``validate``, for one ``{column: value}`` object per row.

        Raises:
            SignatureError: as ``validate``, or a row that is not an object or has other
                columns (the message names the row).
        """
        return Table(columns_from_rows(self._signature(), rows, model=self._ref()))

    def predict_table(self, table: Table | pd.DataFrame) -> Predictions:
        """Answers for ``table``, the signature's columns (as ``validate`` builds them, or a
        DataFrame): labels and probabilities from a classifier, numbers from a regressor.
        A text model scores the table's ``text`` column as ``predict`` does.

        Raises:
            DataError: the model rejects the inputs (an unknown category, say).
        """
        import numpy as np  # noqa: PLC0415

        signature = self._signature()
        if self.kind == "text" and self.task == "classification":
            labels, proba = self.predict([str(t) for t in table[TEXT_INPUT]])
            return Predictions(labels, proba, self.classes)
        # A compiled linear model takes its columns in the order it was fitted on.
        order = getattr(self.model, "columns", None) if self.form == "compiled" else None
        arrays = [np.asarray(table[name]) for name in order or signature.columns]
        n = len(arrays[0])
        if self.kind == "text":
            given: Any = [str(t) for t in arrays[0]]
        elif signature.named and self.form != "compiled":  # given names as it was fitted
            import pandas as pd  # noqa: PLC0415

            given = pd.DataFrame(dict(zip(signature.columns, arrays, strict=True)))
        else:
            given = np.column_stack(arrays)
        try:
            if self.task == "regression":
                values = np.asarray(self.model.predict(given), dtype=float).reshape(n)
                return Predictions(values.tolist(), None)
            scores = np.asarray(self.model.predict_proba(given), dtype=float)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{self._ref()} cannot score these inputs: {str(exc).splitlines()[0]}",
                hint="send values like those the model was trained on",
            ) from None
        labels = [self.classes[i] for i in scores.argmax(axis=1)]
        return Predictions(labels, scores.tolist(), self.classes)

    def _signature(self) -> Signature:
        if self.signature is not None:
            return self.signature
        return Signature("text", "classification", _TEXT, self.classes)

    def _ref(self) -> str:
        return f"{self.name}@{self.version}"


def load_version(ws: Workspace, record: ModelVersionRecord) -> LoadedModel:
    """Load ``record``'s model for serving (see ``assay.registry.load_scorer``: the compiled
    form where there is one; bytes checked against their sha256; nothing unpickled), with
    its signature: the one recorded at registration, else one inferred from the model.

    Raises:
        RegistryError: a classifier that gives no class probabilities, or a model that
            cannot predict.
        IntegrityError: the stored bytes no longer match the digest.
    """
    model, form = load_scorer(ws, record)
    signature = version_signature(record, model)
    if signature.task == "regression":
        return LoadedModel(record, model, (), form, signature)
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise RegistryError(
            f"{record.name}@{record.version} ({type(model).__name__}) cannot be served: it "
            "gives no class probabilities",
            hint="register a fitted scikit-learn classifier or pipeline with predict_proba, "
            "or a regressor",
        )
    return LoadedModel(record, model, tuple(str(c) for c in model.classes_), form, signature)
