"""``assay predict``: batch scoring of a CSV column with a registered model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.cli import output
from assay.serving import score_csv

__all__ = ["predict"]


def predict(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model reference: NAME@latest or NAME@VERSION.")],
    input_csv: Annotated[Path, typer.Option("--input", "-i", help="CSV file to score.")],
    column: Annotated[str, typer.Option("--column", help="Column holding the model input.")],
    output_csv: Annotated[
        Path, typer.Option("--output", "-o", help="CSV written with predictions added.")
    ],
) -> None:
    """Add a `prediction` column and one `proba_<class>` column per class to a CSV."""
    with output.existing(ctx.obj) as ws:
        record, rows = score_csv(ws, model, input_csv, column, output_csv)
    output.console().print(
        f"scored {rows} rows with {record.name}@{record.version} -> {output_csv}"
    )
