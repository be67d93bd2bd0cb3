"""Registering model versions and resolving model references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import ModelNotFoundError, RegistryError
from assay.metadata import ArtifactRecord, EventRecord, ModelVersionRecord, Registration
from assay.workspace import Workspace

__all__ = [
    "ALIAS_PATTERN",
    "SERVING_FORM",
    "ModelRef",
    "check_alias",
    "check_name",
    "load_model",
    "parse_ref",
    "registration",
    "reference_data",
    "resolve",
    "serving_form",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_NAME = re.compile(NAME_PATTERN)
# The output of the registering step that holds a model's compiled serving form.
SERVING_FORM = "serving_form"
# The input of the registering step that holds the version's reference data.
REFERENCE = "reference"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
_ALIAS = re.compile(ALIAS_PATTERN)


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model reference: a name with a version number, an alias, or neither (latest)."""

    name: str
    version: int | None
    alias: str | None = None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return f"{self.name}@{self.version if self.version is not None else 'latest'}"


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name.

    Raises:
        RegistryError: it is not (aliases are lower-case words; ``latest`` is reserved).
    """
    if not _ALIAS.match(alias) or alias == "latest":
        raise RegistryError(
            f"invalid alias {alias!r}",
            hint="use a lower-case word of letters, digits, '_' and '-' (not 'latest'), "
            "such as candidate, staging or production",
        )
    return alias


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
    """Parse ``NAME``, ``NAME@latest``, ``NAME@VERSION`` or ``NAME@ALIAS``.

    Raises:
        ModelNotFoundError: the reference is malformed.
    """
    name, sep, version = ref.strip().partition("@")
    if not name or (sep and not version):
        raise ModelNotFoundError(
            f"malformed model reference {ref!r}",
            hint="write NAME@latest, NAME@VERSION or NAME@ALIAS",
        )
    check_name(name)
    if not sep or version == "latest":
        return ModelRef(name, None)
    if version.isdigit() and int(version) >= 1:
        return ModelRef(name, int(version))
    if _ALIAS.match(version):
        return ModelRef(name, None, alias=version)
    raise ModelNotFoundError(
        f"malformed model reference {ref!r}: {version!r} is neither a positive version "
        "number nor an alias",
        hint="write NAME@latest, NAME@VERSION or NAME@ALIAS, for example sesame@3 or "
        "sesame@production",
    )


def resolve(ws: Workspace, ref: str) -> ModelVersionRecord:
    """The model version ``ref`` points at.

    Raises:
        ModelNotFoundError: an unknown model or version, or a malformed reference.
    """
    parsed = parse_ref(ref)
    version = parsed.version
    if parsed.alias is not None:
        version = ws.metadata.alias_version(parsed.name, parsed.alias)
    record = None
    if parsed.alias is None or version is not None:
        record = ws.metadata.model_version(parsed.name, version)
    if record is not None:
        return record
    names = ws.metadata.model_names()
    if parsed.name not in names:
        known = ", ".join(names) or "none yet; a pipeline registers one"
        raise ModelNotFoundError(f"unknown model {parsed.name!r}", hint=f"models: {known}")
    if parsed.alias is not None:
        current = ws.metadata.aliases(parsed.name)
        known = ", ".join(f"{a.alias} -> {a.version}" for a in current) or "none yet"
        raise ModelNotFoundError(
            f"model {parsed.name!r} has no alias {parsed.alias!r}",
            hint=f"aliases: {known}; `assay models promote` sets one",
        )
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


def serving_form(ws: Workspace, record: ModelVersionRecord) -> EventRecord | None:
    """The compiled serving form written when ``record`` was registered, if it has one."""
    return _registered_with(ws, record, SERVING_FORM, "output")


def reference_data(ws: Workspace, record: ModelVersionRecord) -> EventRecord | None:
    """The reference data ``record`` was registered with (what monitoring compares live
    inputs with), if it was given one."""
    return _registered_with(ws, record, REFERENCE, "input")


def _registered_with(
    ws: Workspace, record: ModelVersionRecord, name: str, direction: str
) -> EventRecord | None:
    for event in ws.metadata.events_of([record.execution_id]):
        if event.direction == direction and event.name == name:
            return event
    return None
