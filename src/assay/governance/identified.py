"""How the people behind a model's alias moves and reviews were identified, as the sealed
audit events say: by an API token, by single sign-on (issuer and subject), as a laptop
server's local admin, or declared on a local store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.chain import read_sealed
from assay.metadata import AliasMoveRecord
from assay.workspace import Workspace

__all__ = ["Identified", "identified", "identity"]


@dataclass(frozen=True, slots=True)
class Identified:
    """``via`` of each alias move (by ``alias@moved_at``) and of each review (by
    ``request:reviewer``); None where the actor only declared who they were."""

    moves: dict[str, dict[str, str] | None] = field(default_factory=dict)
    reviews: dict[str, dict[str, str] | None] = field(default_factory=dict)

    def move(self, move: AliasMoveRecord) -> dict[str, str] | None:
        """How the mover of ``move`` was identified."""
        return self.moves.get(f"{move.alias}@{move.moved_at!r}")

    def review(self, request_id: str, reviewer: str) -> dict[str, str] | None:
        """How ``reviewer`` of request ``request_id`` was identified."""
        return self.reviews.get(f"{request_id}:{reviewer}")


def identified(ws: Workspace, name: str, moves: Sequence[AliasMoveRecord]) -> Identified:
    """How the actors of ``moves`` (of model ``name``) and the reviewers of the requests
    they carried out were identified, from events checked against the chain.

    Raises:
        TamperedError: the chain is not whole, or one of the events was changed.
    """
    subjects = sorted(
        {f"model:{name}@{m.alias}" for m in moves}
        | {f"model:{name}@{v}" for m in moves for v in (m.version, m.previous) if v is not None}
    )
    found = Identified()
    if not subjects:
        return found
    actions = ["alias.moved", "promotion.approved", "promotion.rejected"]
    for event in read_sealed(ws, subjects, actions):
        payload = event.payload
        if event.action == "alias.moved":
            alias = event.subject.rpartition("@")[2]
            found.moves[f"{alias}@{payload.get('at')!r}"] = event.via
        else:
            found.reviews[f"{payload.get('request', '')}:{event.actor}"] = event.via
    return found


def identity(via: dict[str, str] | None) -> str:
    """``via`` (how an audit event's actor was identified) in words."""
    if not via:
        return "declared (a local store: the user named themselves)"
    kind = via.get("kind")
    if kind == "token":
        return f"API token {via.get('id', '?')} (team server)"
    if kind == "oidc":
        return f"OpenID Connect: {via.get('subject', '?')} at {via.get('issuer', '?')}"
    if kind == "local":
        return "the local admin of a team server on 127.0.0.1"
    return str(kind)
