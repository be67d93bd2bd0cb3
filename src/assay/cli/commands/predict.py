"""``assay predict``: batch scoring of a CSV with a registered model."""

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
    output_csv: Annotated[
        Path, typer.Option("--output", "-o", help="CSV written with predictions added.")
    ],
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            help="Column holding a text model's input (default: text), or the one input "
            "of a tabular model of one column. A tabular model reads its own columns.",
        ),
    ] = None,
) -> None:
    """Add a `prediction` column (and for a classifier one `proba_<class>` per class) to a
    CSV. A tabular model reads the columns its signature names (`assay models show` lists
    them); the other columns are kept in the output."""
    with output.existing(ctx.obj) as ws:
        record, rows = score_csv(ws, model, input_csv, column, output_csv)
    output.console().print(
        f"scored {rows} rows with {record.name}@{record.version} -> {output_csv}"
    )
