"""Registering model versions and resolving model references."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import ModelNotFoundError, RegistryError
from assay.metadata import ArtifactRecord, EventRecord, ModelVersionRecord, Registration
from assay.workspace import Workspace

__all__ = [
    "ALIAS_PATTERN",
    "MAX_VERSION",
    "SERVING_FORM",
    "ModelRef",
    "check_alias",
    "check_name",
    "gate_results",
    "known_model",
    "load_model",
    "parse_ref",
    "registration",
    "reference_data",
    "resolve",
    "serving_form",
]

MAX_VERSION = 2**31 - 1
"""No store numbers a version higher: a larger number is refused before the database, whose
integers it would overflow, sees it."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_NAME = re.compile(NAME_PATTERN)
# The output of the registering step that holds a model's compiled serving form.
SERVING_FORM = "serving_form"
# The input of the registering step that holds the version's reference data.
REFERENCE = "reference"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
_ALIAS = re.compile(ALIAS_PATTERN)
# Words a reference may end in that are not aliases: the newest version that did not fail
# its gates, and the newest whatever its gates.
_RESERVED = ("latest", "newest")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model reference: a name with a version number, an alias, or neither (the
    latest, or with ``newest`` the newest whatever its gates)."""

    name: str
    version: int | None
    alias: str | None = None
    newest: bool = False

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        if self.version is not None:
            return f"{self.name}@{self.version}"
        return f"{self.name}@{'newest' if self.newest else 'latest'}"


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name.

    Raises:
        RegistryError: it is not (aliases are lower-case words; ``latest`` and ``newest``
            are reserved).
    """
    if not _ALIAS.match(alias) or alias in _RESERVED:
        raise RegistryError(
            f"invalid alias {alias!r}",
            hint="use a lower-case word of letters, digits, '_' and '-' (not 'latest' or "
            "'newest'), such as candidate, staging or production",
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
    """Parse ``NAME``, ``NAME@latest``, ``NAME@newest``, ``NAME@VERSION`` or ``NAME@ALIAS``.

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
    if version == "newest":
        return ModelRef(name, None, newest=True)
    if version.isdigit() and version.isascii() and int(version) >= 1:
        if int(version) > MAX_VERSION:
            raise ModelNotFoundError(
                f"model {name!r} has no version {version}",
                hint=f"a version is a number from 1 to {MAX_VERSION}",
            )
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

    ``NAME@VERSION`` names any version, archived or not. ``NAME@latest`` (or a plain
    ``NAME``) is the newest version that is not archived and whose newest gate verdict did
    not fail (a version never gated counts); ``NAME@newest`` is the newest not archived,
    whatever its gates.

    Raises:
        ModelNotFoundError: an unknown model or version, a malformed reference, or no
            version that ``@latest`` or ``@newest`` may name.
    """
    parsed = parse_ref(ref)
    if parsed.version is None and parsed.alias is None:
        return _newest_eligible(ws, known_model(ws, parsed.name), gated=not parsed.newest)
    version = parsed.version
    if parsed.alias is not None:
        version = ws.metadata.alias_version(parsed.name, parsed.alias)
    record = ws.metadata.model_version(parsed.name, version) if version is not None else None
    if record is not None:
        return record
    known_model(ws, parsed.name)
    if parsed.alias is not None:
        current = ws.metadata.aliases(parsed.name)
        known = ", ".join(f"{a.alias} -> {a.version}" for a in current) or "none yet"
        raise ModelNotFoundError(
            f"model {parsed.name!r} has no alias {parsed.alias!r}",
            hint=f"aliases: {known}; `assay models promote` sets one",
        )
    newest = ws.metadata.model_version(parsed.name, None)
    raise ModelNotFoundError(
        f"model {parsed.name!r} has no version {parsed.version}",
        hint=f"the newest is {parsed.name}@{newest.version if newest else '?'}",
    )


def known_model(ws: Workspace, name: str) -> str:
    """Return ``name`` if a model of that name is registered.

    Raises:
        ModelNotFoundError: none is; the hint suggests the closest known name.
    """
    names = ws.metadata.model_names()
    if name in names:
        return name
    if not names:
        raise ModelNotFoundError(
            f"unknown model {name!r}", hint="models: none yet; a pipeline registers one"
        )
    close = difflib.get_close_matches(name, names, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    raise ModelNotFoundError(f"unknown model {name!r}", hint=f"{guess}models: {', '.join(names)}")


def gate_results(ws: Workspace, name: str) -> dict[int, bool]:
    """Whether each gated version of ``name`` passed its newest gate verdict; versions
    never gated are not in it."""
    newest: dict[int, bool] = {}
    for verdict in ws.metadata.verdicts(name):  # oldest first: the last one stays
        newest[verdict.version] = verdict.passed
    return newest


def _newest_eligible(ws: Workspace, name: str, *, gated: bool) -> ModelVersionRecord:
    versions = ws.metadata.model_versions(name)
    if not versions:  # a model row is written with its first version; never seen, but cheap
        raise ModelNotFoundError(f"model {name!r} has no versions")
    results = gate_results(ws, name) if gated else {}
    failed = {version for version, passed in results.items() if not passed}
    for record in reversed(versions):
        if record.archived_at is None and record.version not in failed:
            return record
    newest = versions[-1]
    ref = f"{name}@{newest.version}"
    if newest.archived_at is not None:
        why = f"is archived ({newest.archive_reason})"
        hint = f"name it {ref}, or `assay models restore {ref} --reason ...`"
    else:
        why = "failed its gates"
        hint = (
            f"name it {ref} or {name}@newest to use it anyway; "
            f"`assay models show {ref}` shows the failed gates"
        )
    which = "latest" if gated else "newest"
    raise ModelNotFoundError(
        f"no version of {name!r} qualifies as {name}@{which}: the newest, {ref}, {why}",
        hint=hint,
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
