"""``assay deploy kserve``: the manifests that run a registry model on KServe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.cli import output
from assay.errors import ConfigError
from assay.metadata import ModelVersionRecord
from assay.registry import resolve
from assay.serving.distribution import RunningAssay, build_wheel, running_assay
from assay.serving.kserve import (
    BASE_IMAGE,
    DOCKERFILE,
    EXTRAS,
    INFERENCE_SERVICE,
    STORE_VARIABLES,
    AssayPackage,
    KServeOptions,
    kserve_manifests,
    kserve_name,
)
from assay.settings import Settings

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
    wheel: Annotated[
        bool,
        typer.Option(
            "--wheel",
            help="Build a wheel of the assay source checkout running here into the output "
            "folder and install that, not assay==VERSION from the package index.",
        ),
    ] = False,
) -> None:
    """Write a KServe InferenceService running `assay serve MODEL`, its image's Dockerfile and
    .dockerignore, and print what they assume.

    The image holds assay, not the model: pods load MODEL from the store, so a promotion
    swaps it in without redeploying.
    """
    running = running_assay()
    if wheel and running.checkout is None:
        raise ConfigError(
            f"--wheel builds assay from its source checkout, but assay {running.version} "
            "here is not installed from one",
            hint=f"leave out --wheel: the image installs assay=={running.version} from the "
            "package index",
        )
    settings: Settings = ctx.obj
    with output.existing(settings) as ws:
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
    folder = out if out is not None else Path("deploy") / options.name
    package = AssayPackage(running.version)
    if wheel and running.checkout is not None:
        built = build_wheel(running.checkout, folder)
        # The checkout's version now, which may be newer than the one pip installed.
        package = AssayPackage(built.name.split("-")[1], wheel=built.name)
    files = kserve_manifests(version, model, options, package)
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
    console.print("assumed:")
    for label, text in _assumptions(folder, model, version, options, package):
        console.print(output.escape(f"  {label:<14}{text}"))
    for warning in _warnings(folder, settings, running, package):
        console.print(f"[yellow]warning:[/yellow] {output.escape(warning)}")
    console.print(
        output.escape(
            f"next: docker build -t {options.image} {folder} "
            f"&& docker push {options.image} && kubectl apply -f {folder / INFERENCE_SERVICE}"
        )
    )


def _assumptions(
    folder: Path,
    model: str,
    version: ModelVersionRecord,
    options: KServeOptions,
    package: AssayPackage,
) -> list[tuple[str, str]]:
    """What the written files take for granted, one (label, text) per line."""
    if package.wheel is None:
        assay = f"assay[{EXTRAS}]=={package.version} from the package index (the version here)"
    else:
        assay = f"assay[{EXTRAS}] {package.version} from {folder / package.wheel}, built here"
    return [
        ("build context", f"{folder} (the {DOCKERFILE} copies nothing from your project)"),
        ("base image", BASE_IMAGE),
        ("assay", f"{assay}; other extras: --build-arg EXTRAS={EXTRAS},s3"),
        (
            "model",
            f"not in the image: each pod loads {model} from the store and checks its sha256 "
            f"(now {version.name}@{version.version}, sha256:{version.digest[:12]})",
        ),
        ("your code", "none in the image: serving needs only the stored model artifact"),
        (
            "you provide",
            f"the image pushed as {options.image}, and the Secret {options.store_secret} "
            f"({', '.join(STORE_VARIABLES)}) naming a store the cluster reaches that holds "
            f"{version.name}",
        ),
    ]


def _warnings(
    folder: Path, settings: Settings, running: RunningAssay, package: AssayPackage
) -> list[str]:
    """What would make the image or the pods fail as written."""
    warnings = []
    if running.checkout is not None and package.wheel is None:
        warnings.append(
            f"assay {running.version} runs here from the source checkout {running.checkout}, "
            f"so assay=={running.version} may not be on the package index; pass --wheel to "
            f"build a wheel of the checkout into {folder} and install that instead"
        )
    # Printed as they are only when local: a database URL may hold a password.
    local = [settings.db_url] if settings.db_url.startswith("sqlite") else []
    if "://" not in settings.artifact_root or settings.artifact_root.startswith("file:"):
        local.append(settings.artifact_root)
    if local:
        warnings.append(
            f"the store used here is local ({', '.join(local)}): pods cannot reach it, so the "
            "Secret must name a shared one (PostgreSQL and an object store) holding the same "
            "models"
        )
    return warnings
