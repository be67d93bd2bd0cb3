"""``assay serve``: registry models over KServe V1 and Open Inference Protocol V2."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from assay.cli import output
from assay.registry import resolve
from assay.server.model.http import serve as run_server
from assay.serving.server import ServeOptions, check_options, exposure

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    refs: Annotated[
        list[str], typer.Argument(help="Model references to serve, e.g. sesame@production.")
    ],
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free one).")
    ] = 8080,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Server processes sharing the port.")
    ] = 1,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, help="Most rows scored in one model call.")
    ] = 128,
    max_wait_ms: Annotated[
        float,
        typer.Option("--max-wait-ms", min=0, help="Longest a request waits for a batch to fill."),
    ] = 2.0,
    max_body_kb: Annotated[
        int,
        typer.Option("--max-body-kb", min=1, help="Largest request body accepted (413 above)."),
    ] = 1024,
    poll_seconds: Annotated[
        float,
        typer.Option("--poll-seconds", min=0.01, help="How often aliases are checked for moves."),
    ] = 2.0,
    no_log: Annotated[
        bool, typer.Option("--no-log", help="Do not write the prediction log.")
    ] = False,
    retention_days: Annotated[
        float,
        typer.Option("--retention-days", min=0, help="Prediction-log entries kept this long."),
    ] = 30.0,
    accept_labels: Annotated[
        bool,
        typer.Option(
            "--accept-labels",
            help="Take late labels on POST /v1/models/NAME/labels, from clients sending the "
            "bearer token in ASSAY_LABELS_TOKEN (which must then be set).",
        ),
    ] = False,
    header_timeout: Annotated[
        float,
        typer.Option("--header-timeout", min=0.1, help="Seconds a client has for its headers."),
    ] = 10.0,
    body_timeout: Annotated[
        float,
        typer.Option("--body-timeout", min=0.1, help="Seconds a client has for its body (408)."),
    ] = 10.0,
    max_connections: Annotated[
        int,
        typer.Option("--max-connections", min=1, help="Open connections before 503s."),
    ] = 1000,
    log_max_chars: Annotated[
        int,
        typer.Option(
            "--log-max-chars", min=1, help="Characters of each text the prediction log keeps."
        ),
    ] = 10_000,
) -> None:
    """Serve registry models until Ctrl-C or SIGTERM.

    Requests in flight and the prediction log are finished first. An alias being served is
    followed: when it moves, the new version is loaded, verified and swapped in without
    failing a request.
    """
    options = ServeOptions(
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        max_body_bytes=max_body_kb * 1024,
        poll_s=poll_seconds,
        log_predictions=not no_log,
        retention_days=retention_days,
        accept_labels=accept_labels,
        labels_token=os.environ.get("ASSAY_LABELS_TOKEN") or None,
        host=host,
        header_timeout_s=header_timeout,
        body_timeout_s=body_timeout,
        max_connections=max_connections,
        log_max_chars=log_max_chars,
    )
    check_options(options)  # a missing labels token is an error before anything is printed
    with output.existing(ctx.obj) as ws:
        for ref in refs:  # so is an unknown name
            resolve(ws, ref)

    def announce(listening: int) -> None:
        con = output.console()
        served = ", ".join(refs)
        con.print(f"serving {served} on http://{host}:{listening} (Ctrl-C stops)")
        for line in exposure(options):
            con.print(f"  {line}")

    run_server(ctx.obj, refs, options, host=host, port=port, workers=workers, on_listening=announce)
