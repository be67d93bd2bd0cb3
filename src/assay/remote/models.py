"""The model versions repository over a team server's REST API, as a run reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assay.core import restored
from assay.metadata import GateVerdictRecord, ModelVersionRecord
from assay.remote.blobs import HELD
from assay.remote.connection import Connection, parsed

__all__ = ["HttpModels"]


class HttpModels:
    """``ModelRepository`` through ``connection``."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def versions_of_digests(self, digests: Sequence[str]) -> list[ModelVersionRecord]:
        found: list[ModelVersionRecord] = []
        unique = list(dict.fromkeys(digests))
        for i in range(0, len(unique), HELD):
            answer = self.connection.call(
                "GET", "/registry/versions", params={"digest": unique[i : i + HELD]}
            )
            found += [_version(v) for v in answer["versions"]]
        return sorted(found, key=lambda v: (v.name, v.version))

    def model_version(self, name: str, version: int | None) -> ModelVersionRecord | None:
        answer = self.connection.call(
            "GET", "/registry/version", params={"name": name, "version": version}
        )
        return None if answer["version"] is None else _version(answer["version"])

    def alias_version(self, name: str, alias: str) -> int | None:
        answer = self.connection.call(
            "GET", "/registry/alias", params={"name": name, "alias": alias}
        )
        return None if answer["version"] is None else int(answer["version"])

    def verdicts(self, name: str, version: int | None = None) -> list[GateVerdictRecord]:
        answer = self.connection.call(
            "GET", "/registry/verdicts", params={"name": name, "version": version}
        )
        return [
            parsed(
                GateVerdictRecord,
                {**v, "policy": restored(v["policy"]), "results": restored(v["results"])},
            )
            for v in answer["verdicts"]
        ]


def _version(found: dict[str, Any]) -> ModelVersionRecord:
    return parsed(ModelVersionRecord, {**found, "info": restored(found["info"])})
