"""What a person asks of the team's store from the command line (promotions, roles,
tokens, the audit check), whether the store is here or behind a team server: one Protocol,
answered by :class:`LocalTeam` over a workspace and by :class:`~assay.client.Remote`."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from assay.audit import verify_chain
from assay.errors import AuditError, MetadataError
from assay.governance import (
    Identified,
    grant,
    history,
    identified,
    issue_token,
    list_tokens,
    parse_when,
    promote,
    request_promotion,
    review,
    revoke,
    revoke_token,
    rollback,
)
from assay.metadata import AliasMoveRecord, PromotionRequestRecord, RoleGrant
from assay.metadata.tokens import TokenRecord
from assay.registry import ListedVersion, list_versions
from assay.runner import reap_dead_runs
from assay.tracking import RunPage, search_runs
from assay.workspace import Workspace

__all__ = ["LocalTeam", "Team", "reap"]


def reap(ws: Workspace) -> None:
    """Mark the runs whose process died as such, before a listing shows them ``running``;
    a store this user may not write is left as it is."""
    with contextlib.suppress(MetadataError, AuditError):
        reap_dead_runs(ws)


class Team(Protocol):
    """The calls both a local store and a team server answer alike."""

    def runs(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
        pipeline: str | None,
    ) -> RunPage:
        """Runs matching ``where`` in ``order_by`` order (newest first), ``limit`` of them
        (None: all), with their latest metrics and the fields the search names."""
        ...

    def versions(self, name: str | None) -> list[ListedVersion]:
        """Every version (of model ``name``), archived ones too, with aliases and gates."""
        ...

    def history(
        self, name: str, alias: str | None, at: str | None
    ) -> tuple[list[AliasMoveRecord], Identified]:
        """Moves of the model's aliases (or one), oldest first, up to ``at``, and how each
        mover and reviewer was identified."""
        ...

    def request(self, request_id: str, name: str) -> PromotionRequestRecord:
        """One promotion request of model ``name``."""
        ...

    def request_promotion(self, ref: str, alias: str, comment: str) -> PromotionRequestRecord:
        """Ask for the version ``ref`` to take ``alias``."""
        ...

    def review(
        self, ref: str, alias: str, comment: str, *, approve: bool
    ) -> PromotionRequestRecord:
        """Approve or reject the open request of ``ref`` for ``alias``."""
        ...

    def promote(self, ref: str, alias: str, reason: str) -> AliasMoveRecord:
        """Point ``alias`` at the version ``ref``."""
        ...

    def rollback(self, name: str, alias: str, reason: str) -> AliasMoveRecord:
        """Point ``alias`` back at the version it held before."""
        ...

    def grants(self) -> list[RoleGrant]:
        """Every role grant."""
        ...

    def grant(self, user: str, role: str) -> bool:
        """Grant ``role`` to ``user``; False when they held it."""
        ...

    def revoke(self, user: str, role: str) -> bool:
        """Take ``role`` from ``user``; False when they did not hold it."""
        ...

    def verify(self, *, artifacts: bool) -> dict[str, Any]:
        """The check of the whole audit chain, as ``VerifyReport.to_dict`` gives it."""
        ...

    def tokens(self, user: str | None, *, every: bool) -> list[TokenRecord]:
        """Tokens: the caller's, ``user``'s, or (``every``) everyone's."""
        ...

    def issue_token(
        self, user: str | None, role: str, days: float, note: str
    ) -> tuple[TokenRecord, str]:
        """A new token for ``user`` (None: the caller): its record, and the token."""
        ...

    def revoke_token(self, token_id: str) -> TokenRecord:
        """Revoke a token."""
        ...


class LocalTeam:
    """:class:`Team` over a workspace opened here, acting as its user."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def runs(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
        pipeline: str | None,
    ) -> RunPage:
        reap(self.ws)
        return search_runs(
            self.ws,
            experiment=experiment,
            where=where,
            order_by=order_by,
            limit=limit,
            pipeline=pipeline,
        )

    def versions(self, name: str | None) -> list[ListedVersion]:
        return list_versions(self.ws, name)

    def history(
        self, name: str, alias: str | None, at: str | None
    ) -> tuple[list[AliasMoveRecord], Identified]:
        moves = history(self.ws, name, alias, parse_when(at) if at else None)
        return moves, identified(self.ws, name, moves)

    def request(self, request_id: str, name: str) -> PromotionRequestRecord:
        return self.ws.metadata.get_request(request_id)

    def request_promotion(self, ref: str, alias: str, comment: str) -> PromotionRequestRecord:
        return request_promotion(self.ws, ref, alias, comment)

    def review(
        self, ref: str, alias: str, comment: str, *, approve: bool
    ) -> PromotionRequestRecord:
        return review(self.ws, ref, approve=approve, comment=comment, alias=alias)

    def promote(self, ref: str, alias: str, reason: str) -> AliasMoveRecord:
        return promote(self.ws, ref, alias, reason)

    def rollback(self, name: str, alias: str, reason: str) -> AliasMoveRecord:
        return rollback(self.ws, name, alias, reason)

    def grants(self) -> list[RoleGrant]:
        return self.ws.metadata.role_grants()

    def grant(self, user: str, role: str) -> bool:
        return grant(self.ws, user, role)

    def revoke(self, user: str, role: str) -> bool:
        return revoke(self.ws, user, role)

    def verify(self, *, artifacts: bool) -> dict[str, Any]:
        return verify_chain(self.ws, artifacts=artifacts).to_dict()

    def tokens(self, user: str | None, *, every: bool) -> list[TokenRecord]:
        return list_tokens(self.ws, None if every else (user or self.ws.user))

    def issue_token(
        self, user: str | None, role: str, days: float, note: str
    ) -> tuple[TokenRecord, str]:
        issued = issue_token(self.ws, user or self.ws.user, role, days=days, note=note)
        return issued.record, issued.token

    def revoke_token(self, token_id: str) -> TokenRecord:
        return revoke_token(self.ws, token_id)
