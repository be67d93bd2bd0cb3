"""``assay deploy kserve``: the manifests that run a registry model on KServe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.cli import output
from assay.errors import ConfigError
from assay.registry import resolve
from assay.serving.kserve import (
    DOCKERFILE,
    INFERENCE_SERVICE,
    KServeOptions,
    kserve_manifests,
    kserve_name,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("kserve")
def kserve(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Argument(help="Model reference to serve: NAME@ALIAS (sesame@production) or NAME@N."),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to write into (default: deploy/NAME/)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="InferenceService name (default: from the model name)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Kubernetes namespace (default: kubectl's).")
    ] = None,
    image: Annotated[
        str, typer.Option("--image", help="Image built from the Dockerfile written.")
    ] = "assay:latest",
    replicas: Annotated[int, typer.Option("--replicas", help="Pods kept running.")] = 1,
    cpu: Annotated[str, typer.Option("--cpu", help="CPU per pod (1, 500m).")] = "1",
    memory: Annotated[str, typer.Option("--memory", help="Memory per pod (2Gi).")] = "2Gi",
    port: Annotated[int, typer.Option("--port", help="Port of assay serve in the pod.")] = 8080,
    store_secret: Annotated[
        str,
        typer.Option(
            "--store-secret",
            help="Secret holding ASSAY_DB_URL, ASSAY_ARTIFACT_ROOT and ASSAY_AUDIT_DIR.",
        ),
    ] = "assay-store",  # noqa: S107 - the name of a Kubernetes Secret, not a password
) -> None:
    """Write a KServe InferenceService running `assay serve MODEL`, and its image's Dockerfile.

    The pods serve the reference, so a promotion swaps the model in without redeploying.
    """
    with output.opened(ctx.obj) as ws:
        version = resolve(ws, model)
    options = KServeOptions(
        name=name if name is not None else kserve_name(version.name),
        namespace=namespace,
        image=image,
        replicas=replicas,
        cpu=cpu,
        memory=memory,
        port=port,
        store_secret=store_secret,
    )
    files = kserve_manifests(version, model, options)
    folder = out if out is not None else Path("deploy") / options.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (folder / file_name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write into {folder}: {exc.strerror}") from None
    console = output.console()
    console.print(
        output.escape(
            f"wrote {', '.join(str(folder / f) for f in files)} "
            f"for {model} ({version.name}@{version.version})"
        )
    )
    console.print(
        output.escape(
            f"next: docker build -f {folder / DOCKERFILE} -t {options.image} . "
            f"&& docker push {options.image} && kubectl apply -f {folder / INFERENCE_SERVICE}"
        )
    )
