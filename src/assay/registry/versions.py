"""Registering model versions and resolving model references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import ModelNotFoundError, RegistryError
from assay.metadata import ArtifactRecord, ModelVersionRecord, Registration
from assay.workspace import Workspace

__all__ = ["ModelRef", "check_name", "load_model", "parse_ref", "registration", "resolve"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model reference: a name and a version number, or None for the latest."""

    name: str
    version: int | None

    def __str__(self) -> str:
        return f"{self.name}@{self.version if self.version is not None else 'latest'}"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name.

    Raises:
        RegistryError: it is not.
    """
    if not _NAME.match(name):
        raise RegistryError(
            f"invalid model name {name!r}",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


def parse_ref(ref: str) -> ModelRef:
    """Parse ``NAME``, ``NAME@latest`` or ``NAME@VERSION``.

    Raises:
        ModelNotFoundError: the reference is malformed.
    """
    name, sep, version = ref.strip().partition("@")
    if not name or (sep and not version):
        raise ModelNotFoundError(
            f"malformed model reference {ref!r}", hint="write NAME@latest or NAME@VERSION"
        )
    check_name(name)
    if not sep or version == "latest":
        return ModelRef(name, None)
    if not version.isdigit() or int(version) < 1:
        raise ModelNotFoundError(
            f"malformed model reference {ref!r}: version {version!r} is not a positive number",
            hint="write NAME@latest or NAME@VERSION, for example sesame@3",
        )
    return ModelRef(name, int(version))


def resolve(ws: Workspace, ref: str) -> ModelVersionRecord:
    """The model version ``ref`` points at.

    Raises:
        ModelNotFoundError: an unknown model or version, or a malformed reference.
    """
    parsed = parse_ref(ref)
    record = ws.metadata.model_version(parsed.name, parsed.version)
    if record is not None:
        return record
    names = ws.metadata.model_names()
    if parsed.name not in names:
        known = ", ".join(names) or "none yet; a pipeline registers one"
        raise ModelNotFoundError(f"unknown model {parsed.name!r}", hint=f"models: {known}")
    latest = ws.metadata.model_version(parsed.name, None)
    raise ModelNotFoundError(
        f"model {parsed.name!r} has no version {parsed.version}",
        hint=f"the latest is {parsed.name}@{latest.version if latest else '?'}",
    )


def registration(
    name: str,
    artifact: ArtifactRecord,
    *,
    run_id: str,
    execution_id: str,
    user: str,
    info: Mapping[str, Any],
) -> Registration:
    """A request to register ``artifact`` as the next version of model ``name``.

    It is written with the execution that asked for it; registering the same artifact under
    the same name again returns the existing version.

    Raises:
        RegistryError: ``name`` is not a valid model name.
    """
    return Registration(
        name=check_name(name),
        digest=artifact.digest,
        codec=artifact.codec,
        run_id=run_id,
        execution_id=execution_id,
        user=user,
        info=dict(info),
    )


def load_model(ws: Workspace, ref: str) -> tuple[ModelVersionRecord, Any]:
    """Resolve ``ref`` and load its model, verifying the artifact's sha256 first."""
    record = resolve(ws, ref)
    return record, ws.artifacts.get(record.digest, record.codec)
