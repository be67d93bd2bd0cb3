"""What a person asks of the team's store from the command line (promotions, roles,
tokens, the audit check), whether the store is here or behind a team server: one Protocol,
answered by :class:`LocalTeam` over a workspace and by :class:`~assay.client.Remote`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assay.audit import verify_chain
from assay.errors import AuditError, MetadataError
from assay.governance import (
    Identified,
    grant,
    history,
    identified,
    issue_token,
    latest_verdict,
    list_tokens,
    parse_when,
    promote,
    request_promotion,
    review,
    revoke,
    revoke_token,
    rollback,
)
from assay.lineage import LineageGraph, describe_artifact, downstream, upstream
from assay.metadata import (
    AlertRecord,
    AliasMoveRecord,
    GateVerdictRecord,
    ModelVersionRecord,
    PromotionRequestRecord,
    RetrainRecord,
    RoleGrant,
)
from assay.metadata.tokens import TokenRecord
from assay.monitoring.alerts import close_alert
from assay.registry import ListedVersion, known_model, list_versions, resolve
from assay.runner import reap_dead_runs
from assay.tracking import (
    RunDetail,
    RunPage,
    compare_runs,
    find_runs,
    run_detail,
    runs_frame,
    search_runs,
)
from assay.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LocalTeam", "ShownVersion", "Team", "reap"]


def reap(ws: Workspace) -> None:
    """Mark the runs whose process died as such, before a listing shows them ``running``;
    a store this user may not write is left as it is."""
    with contextlib.suppress(MetadataError, AuditError):
        reap_dead_runs(ws)


@dataclass(frozen=True)
class ShownVersion:
    """A model version with what ``assay models show`` shows beside it: the aliases held,
    the newest gate verdict, its promotion requests and the retraining that registered it."""

    version: ModelVersionRecord
    aliases: list[str]
    verdict: GateVerdictRecord | None
    requests: list[PromotionRequestRecord]
    retrain: RetrainRecord | None


class Team(Protocol):
    """The calls both a local store and a team server answer alike."""

    def run(self, ref: str) -> RunDetail:
        """The run whose id is or starts with ``ref``, in full."""
        ...

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

    def compare(self, refs: list[str]) -> tuple[pd.DataFrame, list[str]]:
        """Runs side by side (one column a run, one row a field), and the differing fields."""
        ...

    def runs_table(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        """The runs a search finds, one row each: attributes, params, tags, last metrics."""
        ...

    def artifact(self, digest: str, *, verify: bool) -> dict[str, Any]:
        """An artifact, its producer, consumers and models, as ``artifacts show --json``."""
        ...

    def lineage(self, ref: str, *, down: bool) -> LineageGraph:
        """The graph upstream of ``ref`` (an artifact or NAME@VERSION), or downstream."""
        ...

    def version(self, ref: str) -> ShownVersion:
        """A model version with what ``models show`` shows beside it."""
        ...

    def evidence(self, ref: str, *, verify: bool, page: bool) -> tuple[dict[str, Any], str | None]:
        """A version's evidence and, with ``page``, its HTML page."""
        ...

    def monitoring(
        self, ref: str, *, since: float | None, all_versions: bool
    ) -> tuple[dict[str, Any], str]:
        """What the monitoring report of ``ref`` shows, and its HTML page."""
        ...

    def alerts(self, model: str | None, status: str | None) -> list[AlertRecord]:
        """Stored alerts (of ``model``, in ``status``), newest first."""
        ...

    def close_alert(self, alert_id: int, reason: str) -> AlertRecord:
        """Close an open alert, saying what was done about it."""
        ...

    def retrains(self, model: str | None) -> list[RetrainRecord]:
        """Retrainings monitoring started (of ``model``), newest first."""
        ...


class LocalTeam:
    """:class:`Team` over a workspace opened here, acting as its user."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def run(self, ref: str) -> RunDetail:
        reap(self.ws)
        return run_detail(self.ws, ref)

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

    def compare(self, refs: list[str]) -> tuple[pd.DataFrame, list[str]]:
        reap(self.ws)
        return compare_runs(self.ws, refs)

    def runs_table(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        reap(self.ws)
        found = find_runs(
            self.ws, experiment=experiment, where=where, order_by=order_by, limit=limit
        )
        return runs_frame(self.ws, found)

    def artifact(self, digest: str, *, verify: bool) -> dict[str, Any]:
        return describe_artifact(self.ws, digest, verify=verify)

    def lineage(self, ref: str, *, down: bool) -> LineageGraph:
        return downstream(self.ws, ref) if down else upstream(self.ws, ref)

    def version(self, ref: str) -> ShownVersion:
        meta = self.ws.metadata
        v = resolve(self.ws, ref)
        return ShownVersion(
            v,
            [a.alias for a in meta.aliases(v.name) if a.version == v.version],
            latest_verdict(self.ws, v),
            meta.requests(v.name, v.version),
            meta.retrain_of(v.name, v.version),
        )

    def evidence(self, ref: str, *, verify: bool, page: bool) -> tuple[dict[str, Any], str | None]:
        from assay.report import build_evidence  # noqa: PLC0415 - Jinja2 only for a report
        from assay.report.html import render_html  # noqa: PLC0415

        found = build_evidence(self.ws, ref, verify_audit=verify)
        if not page:
            return found, None

        return found, render_html(found)

    def monitoring(
        self, ref: str, *, since: float | None, all_versions: bool
    ) -> tuple[dict[str, Any], str]:
        from assay.report.monitoring import (  # noqa: PLC0415 - matplotlib only when rendering
            build_monitoring,
            render_monitoring,
        )

        found = build_monitoring(self.ws, ref, since=since, all_versions=all_versions)
        return found, render_monitoring(found)

    def alerts(self, model: str | None, status: str | None) -> list[AlertRecord]:
        if model is not None:
            known_model(self.ws, model)  # a typo is an error, not an empty list
        return self.ws.metadata.alerts(model, status)

    def close_alert(self, alert_id: int, reason: str) -> AlertRecord:
        return close_alert(self.ws, alert_id, reason)

    def retrains(self, model: str | None) -> list[RetrainRecord]:
        if model is not None:
            known_model(self.ws, model)
        return self.ws.metadata.retrains(model)
