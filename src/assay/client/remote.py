"""A team server seen from the command line: each call one request under ``/api/v1`` with
the user's credential, each refusal raised as the ``AssayError`` the store would have raised
locally (so the CLI prints and exits the same), each answer as the store's own records."""

from __future__ import annotations

from typing import Any

from assay import errors
from assay.client.reading import PAGE, Reading
from assay.governance import Identified
from assay.metadata import AliasMoveRecord as AliasMove
from assay.metadata import ModelVersionRecord, RoleGrant, RunRecord
from assay.metadata import PromotionRequestRecord as PromotionRequest
from assay.metadata.tokens import TokenRecord
from assay.registry import ListedVersion
from assay.registry.versions import parse_ref
from assay.remote import Connection, number, parsed, token_for
from assay.settings import Settings
from assay.tracking import RunPage

__all__ = ["Remote", "connect"]

_LISTED = ("aliases", "gates")  # what a listed version adds to its record


class Remote(Connection, Reading):
    """The team server at ``url``, called with ``token`` (None: no credential, which only a
    laptop server with local authentication accepts), as the command line reads and changes
    it: each refusal raised as the ``AssayError`` the store would raise."""

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def text(self, path: str, params: dict[str, Any]) -> str:
        """The text (an HTML page) the server answers to ``GET path``.

        Raises:
            AssayError: the server refused (as the class it named), or could not be reached.
        """
        return self.answer("GET", path, params).text

    def runs(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
        pipeline: str | None,
    ) -> RunPage:
        """Runs as the server's ``/runs`` pages them, gathered up to ``limit`` (None: all)."""
        query = {"experiment": experiment, "where": where, "order_by": order_by}
        query |= {"pipeline": pipeline}
        runs: list[RunRecord] = []
        metrics: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        while True:
            size = PAGE if limit is None else min(PAGE, limit - len(runs))
            found = self.call("GET", "/runs", params={**query, "limit": size, "cursor": cursor})
            for item in found["runs"]:
                run = parsed(RunRecord, {**item, "packages": {}})
                runs.append(run)
                found_metrics = item.get("metrics") or {}
                metrics[run.id] = {k: number(v) for k, v in found_metrics.items()}
            cursor = found.get("next_cursor")
            if cursor is None or (limit is not None and len(runs) >= limit):
                fields = [(str(a), str(b)) for a, b in found.get("fields", [])]
                return RunPage(runs, int(found["total"]), metrics, fields)

    def whoami(self) -> dict[str, Any]:
        """Who the credential stands for, how, and the roles held."""
        found: dict[str, Any] = self.call("GET", "/whoami")
        return found

    def versions(self, name: str | None) -> list[ListedVersion]:
        """Every version (of model ``name``), archived ones too, with aliases and gates."""
        found = self.call("GET", "/models", params={"name": name, "archived": True})
        return [
            ListedVersion(
                parsed(ModelVersionRecord, {k: v for k, v in item.items() if k not in _LISTED}),
                list(item["aliases"]),
                item["gates"],
            )
            for item in found["versions"]
        ]

    def versionnumber(self, ref: str) -> tuple[str, int]:
        """The model and version number ``ref`` (NAME@VERSION, @ALIAS, @latest) names."""
        parsed = parse_ref(ref)
        if parsed.version is not None:
            return parsed.name, parsed.version
        at = ref.partition("@")[2] or "latest"
        found = self.call("GET", f"/models/{parsed.name}/versions/{at}")
        return parsed.name, int(found["version"])

    def history(
        self, name: str, alias: str | None, at: str | None
    ) -> tuple[list[AliasMove], Identified]:
        """Moves of the model's aliases (or one), oldest first, up to ``at``, and how each
        mover and reviewer was identified."""
        found = self.call("GET", f"/models/{name}/history", params={"alias": alias, "at": at})
        return parsed(list[AliasMove], found["moves"]), parsed(Identified, found["identified"])

    def request(self, request_id: str, name: str) -> PromotionRequest:
        """One promotion request of model ``name``."""
        found = self.call("GET", "/promotions", params={"name": name})
        requests = parsed(list[PromotionRequest], found["requests"])
        for r in requests:
            if r.id == request_id:
                return r
        raise errors.RecordNotFoundError(f"no promotion request {request_id}")

    def request_promotion(self, ref: str, alias: str, comment: str) -> PromotionRequest:
        """Ask for the version ``ref`` to take ``alias``."""
        name, version = self.versionnumber(ref)
        body = {"version": version, "alias": alias, "comment": comment}
        return parsed(PromotionRequest, self.call("POST", f"/models/{name}/promotions", body=body))

    def review(self, ref: str, alias: str, comment: str, *, approve: bool) -> PromotionRequest:
        """Approve or reject the open request of ``ref`` for ``alias``."""
        name, version = self.versionnumber(ref)
        verb = "approve" if approve else "reject"
        path = f"/models/{name}/versions/{version}/promotions/{alias}/{verb}"
        return parsed(PromotionRequest, self.call("POST", path, body={"comment": comment}))

    def promote(self, ref: str, alias: str, reason: str) -> AliasMove:
        """Point ``alias`` at the version ``ref``."""
        name, version = self.versionnumber(ref)
        body = {"version": version, "reason": reason}
        return parsed(AliasMove, self.call("POST", f"/models/{name}/aliases/{alias}", body=body))

    def rollback(self, name: str, alias: str, reason: str) -> AliasMove:
        """Point ``alias`` back at the version it held before."""
        path = f"/models/{name}/aliases/{alias}/rollback"
        return parsed(AliasMove, self.call("POST", path, body={"reason": reason}))

    def grants(self) -> list[RoleGrant]:
        """Every role grant."""
        return parsed(list[RoleGrant], self.call("GET", "/users")["grants"])

    def grant(self, user: str, role: str) -> bool:
        """Grant ``role`` to ``user``; False when they held it."""
        return bool(self.call("POST", f"/users/{user}/roles", body={"role": role})["granted"])

    def revoke(self, user: str, role: str) -> bool:
        """Take ``role`` from ``user``; False when they did not hold it."""
        return bool(self.call("DELETE", f"/users/{user}/roles/{role}")["revoked"])

    def verify(self, *, artifacts: bool) -> dict[str, Any]:
        """The server's check of the whole audit chain, as ``audit verify --json`` prints."""
        found: dict[str, Any] = self.call("GET", "/audit/verify", params={"artifacts": artifacts})
        return found

    def tokens(self, user: str | None, *, every: bool) -> list[TokenRecord]:
        """Tokens, as ``tokens list`` lists them (no digests: those stay on the server)."""
        found = self.call("GET", "/tokens", params={"user": user, "every": every})["tokens"]
        return parsed(list[TokenRecord], [{**t, "secret_sha256": ""} for t in found])

    def issue_token(
        self, user: str | None, role: str, days: float, note: str
    ) -> tuple[TokenRecord, str]:
        """A new token: its record and the token, shown once."""
        body = {"user": user, "role": role, "days": days, "note": note}
        found = self.call("POST", "/tokens", body=body)
        token = str(found.pop("token"))
        return parsed(TokenRecord, {**found, "secret_sha256": ""}), token

    def revoke_token(self, token_id: str) -> TokenRecord:
        """Revoke a token."""
        found = self.call("DELETE", f"/tokens/{token_id}")
        return parsed(TokenRecord, {**found, "secret_sha256": ""})


def connect(settings: Settings) -> Remote:
    """The server ``settings.server_url`` names, with ``ASSAY_TOKEN`` or else the credential
    ``assay login`` kept for it (see ``assay.remote.token_for``).

    Raises:
        AuthenticationError: the kept credential has expired.
    """
    return Remote(settings.server_url, token_for(settings))
