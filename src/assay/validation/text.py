"""Checks for labelled text: empty and duplicate texts, conflicting labels, label set, balance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from assay.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Issue", "ValidationReport", "validate_labelled_text"]

_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: which check, how bad (``error`` stops training), how many rows, examples."""

    check: str
    severity: str
    message: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validation found, and the rows and label counts before and after cleaning."""

    rows_in: int
    rows_out: int
    label_counts: dict[str, int]
    issues: list[Issue]

    @property
    def passed(self) -> bool:
        """True when no issue is an error."""
        return not any(i.severity == "error" for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, with ``passed``."""
        return {**asdict(self), "passed": self.passed}

    def raise_for_errors(self) -> None:
        """Raise ``DataError`` naming every error found.

        Raises:
            DataError: at least one issue is an error.
        """
        errors = [i for i in self.issues if i.severity == "error"]
        if errors:
            raise DataError(
                "data validation failed: " + "; ".join(i.message for i in errors),
                hint="fix the data, or relax the check's thresholds if the data is right",
            )


def validate_labelled_text(
    frame: pd.DataFrame,
    *,
    text: str,
    label: str,
    labels: Sequence[str],
    min_rows_per_class: int = 10,
    max_imbalance: float = 20.0,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check labelled text and return the rows fit for training with a report.

    Empty texts and exact duplicates are dropped (warnings); a text that appears with more
    than one label is dropped in every copy (warning). Labels outside ``labels``, a class
    with fewer than ``min_rows_per_class`` rows or a largest-to-smallest class ratio above
    ``max_imbalance`` are errors: training on them would be meaningless.

    Raises:
        DataError: a named column is missing.
    """
    missing = [c for c in (text, label) if c not in frame.columns]
    if missing:
        raise DataError(
            f"the data has no column {missing[0]!r}",
            hint=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    issues: list[Issue] = []
    rows_in = len(frame)
    data = frame.assign(**{text: frame[text].fillna("").astype(str).str.strip()})

    empty = data[text] == ""
    if empty.any():
        issues.append(
            Issue(
                "empty_text",
                "warning",
                f"{int(empty.sum())} empty texts dropped",
                int(empty.sum()),
                [str(i) for i in data.index[empty][:_EXAMPLES]],
            )
        )
        data = data[~empty]

    unknown = ~data[label].isin(list(labels))
    if unknown.any():
        found = sorted(map(str, data.loc[unknown, label].unique()))
        issues.append(
            Issue(
                "label_set",
                "error",
                f"{int(unknown.sum())} rows have labels outside {list(labels)}: "
                f"{found[:_EXAMPLES]}",
                int(unknown.sum()),
                found[:_EXAMPLES],
            )
        )

    n_labels = data.groupby(text)[label].nunique()
    conflicting = n_labels[n_labels > 1].index
    if len(conflicting):
        rows = data[text].isin(conflicting)
        issues.append(
            Issue(
                "conflicting_labels",
                "warning",
                f"{len(conflicting)} texts appear with different labels; "
                f"all {int(rows.sum())} copies dropped",
                len(conflicting),
                [str(s) for s in conflicting[:_EXAMPLES]],
            )
        )
        data = data[~rows]

    dup = data.duplicated(subset=[text, label])
    if dup.any():
        issues.append(
            Issue(
                "duplicates",
                "warning",
                f"{int(dup.sum())} duplicate rows dropped",
                int(dup.sum()),
                [str(s) for s in data.loc[dup, text][:_EXAMPLES]],
            )
        )
        data = data[~dup]

    counts = {str(k): int(v) for k, v in data[label].value_counts().items()}
    issues.extend(_balance(counts, labels, min_rows_per_class, max_imbalance))
    report = ValidationReport(rows_in, len(data), counts, issues)
    return data.reset_index(drop=True), report


def _balance(
    counts: dict[str, int], labels: Sequence[str], min_rows: int, max_imbalance: float
) -> list[Issue]:
    issues = []
    small = [f"{lab} ({counts.get(lab, 0)})" for lab in labels if counts.get(lab, 0) < min_rows]
    if small:
        issues.append(
            Issue(
                "class_size",
                "error",
                f"classes with fewer than {min_rows} rows: {', '.join(small)}",
                len(small),
                small,
            )
        )
    present = [counts[lab] for lab in labels if counts.get(lab, 0) > 0]
    if present and not small:
        ratio = max(present) / min(present)
        severity = "error" if ratio > max_imbalance else "info"
        issues.append(
            Issue(
                "class_balance",
                severity,
                f"largest to smallest class ratio is {ratio:.1f} (limit {max_imbalance:g})",
                0,
                [],
            )
        )
    return issues
