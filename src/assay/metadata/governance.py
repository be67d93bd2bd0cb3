"""Governance records: roles, aliases and their history, gate verdicts, promotion requests.

Every write here appends its audit event in the same transaction as the change itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace

import sqlalchemy as sa

from assay.errors import GovernanceError
from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, Sealer
from assay.metadata.queries import ALIASES_OF_MODEL, VERDICTS_OF_MODEL
from assay.metadata.records import (
    AliasMoveRecord,
    GateVerdictRecord,
    PromotionRequestRecord,
    ReviewRecord,
    RoleGrant,
)
from assay.metadata.rows import asdict, one_by_prefix
from assay.metadata.state import STATE_TABLES, lock_state

__all__ = ["GovernanceRecords", "no_request", "verdict_entry"]


def no_request(name: str, version: int | None, alias: str, status: str) -> GovernanceError:
    """The refusal when no request to make ``name@version`` ``alias`` is ``status`` (open
    for a review, approved for a move): none was asked for, or another review or move
    closed it first."""
    return GovernanceError(
        f"no {status} request to make {name}@{version} {alias}",
        hint=f"ask for one with `assay models request-promotion {name}@{version} --to {alias}`",
    )


def verdict_entry(verdict: GateVerdictRecord) -> AuditEntry:
    """The audit entry of a gate verdict: pass or fail, and each gate's evidence."""
    return AuditEntry(
        "gate.verdict",
        f"model:{verdict.name}@{verdict.version}",
        {
            "passed": verdict.passed,
            "policy_digest": verdict.policy_digest,
            "results": verdict.results,
            "policy": verdict.policy,
            "run": verdict.run_id,
            "execution": verdict.execution_id,
            "created_by": verdict.created_by,
            "created_at": verdict.created_at,
        },
    )


class GovernanceRecords:
    """The governance part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    audit: Callable[..., None]
    sealer: Sealer | None

    # -- roles ----------------------------------------------------------------------------

    def role_grants(self, user: str | None = None) -> list[RoleGrant]:
        """Every role grant, or those of ``user``."""
        g = t.role_grants
        q = sa.select(g).order_by(g.c.user, g.c.role)
        if user is not None:
            q = q.where(g.c.user == user)
        with self._read() as conn:
            return [RoleGrant(**dict(r)) for r in conn.execute(q).mappings()]

    def grant_role(self, user: str, role: str, by: str, *, only_if_first: bool = False) -> bool:
        """Grant ``role`` to ``user``; with ``only_if_first``, only when no grant exists yet
        (how the first user of a store becomes its admin). Returns whether it was granted."""
        g = t.role_grants
        try:
            with self._write() as conn:
                lock_state(conn, ["role_grants"], self.sealer)
                if only_if_first and conn.execute(sa.select(g.c.user).limit(1)).first():
                    return False
                held = sa.select(g.c.user).where(g.c.user == user, g.c.role == role)
                if conn.execute(held).first() is not None:
                    return False
                now = time.time()
                conn.execute(g.insert().values(user=user, role=role, granted_by=by, granted_at=now))
                why = "first user of the store" if only_if_first else "granted"
                payload = {"role": role, "why": why, "granted_at": now}
                entry = AuditEntry("role.granted", f"user:{user}", payload)
                self.audit(conn, [entry], by)
        except sa.exc.IntegrityError:  # a concurrent writer granted the same role first
            return False
        return True

    def revoke_role(self, user: str, role: str, by: str) -> bool:
        """Take ``role`` from ``user``; returns whether they held it."""
        g = t.role_grants
        with self._write() as conn:
            lock_state(conn, ["role_grants"], self.sealer)
            gone = conn.execute(g.delete().where(g.c.user == user, g.c.role == role)).rowcount
            if gone:
                self.audit(conn, [AuditEntry("role.revoked", f"user:{user}", {"role": role})], by)
        return bool(gone)

    # -- aliases --------------------------------------------------------------------------

    def aliases(self, name: str | None = None) -> list[AliasMoveRecord]:
        """Current aliases (as their latest move), by model and alias."""
        a = t.model_aliases
        q = sa.select(a).order_by(a.c.name, a.c.alias) if name is None else ALIASES_OF_MODEL
        with self._read() as conn:
            return [
                AliasMoveRecord(
                    name=r["name"],
                    alias=r["alias"],
                    version=r["version"],
                    previous=None,
                    moved_at=r["moved_at"],
                    moved_by=r["moved_by"],
                    reason="",
                )
                for r in conn.execute(q, {"name": name}).mappings()
            ]

    def alias_version(self, name: str, alias: str) -> int | None:
        """The version ``alias`` points at now, or None."""
        a = t.model_aliases
        with self._read() as conn:
            found = conn.execute(
                sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
        return int(found) if found is not None else None

    def move_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        by: str,
        reason: str,
        expected: int | None,
        request_id: str | None = None,
    ) -> AliasMoveRecord:
        """Point ``alias`` at ``version`` (None removes it) in one transaction.

        ``expected`` is where the alias must point now (None: nowhere); when another change
        moved it meanwhile, nothing is written. ``request_id`` names the approved request
        the move spends: it is marked done in the same transaction, and a request that is
        no longer approved (another move spent it meanwhile) moves nothing.

        Raises:
            GovernanceError: the alias no longer points at ``expected``, the request is no
                longer approved, or ``version`` is archived.
        """
        a = t.model_aliases
        with self._write() as conn:
            lock_state(conn, STATE_TABLES, self.sealer)  # what the decision read, too
            now = time.time()  # under the lock: moves are timed in the order they are made
            where = (a.c.name == name, a.c.alias == alias)
            current = conn.execute(sa.select(a.c.version).where(*where).with_for_update()).scalar()
            if current != expected:
                raise GovernanceError(
                    f"{name}@{alias} was moved to version {current} meanwhile",
                    hint="look at `assay models history` and try again",
                )
            if request_id is not None:
                # Checked here, under the lock, not where the caller found the request: two
                # moves to where the alias already points both pass the check above.
                pr = t.promotion_requests
                spent = conn.execute(
                    pr.update()
                    .where(pr.c.id == request_id, pr.c.status == "approved")
                    .values(status="done", closed_at=now)
                ).rowcount
                if spent != 1:
                    raise no_request(name, version, alias, "approved")
            mv = t.model_versions
            archived = conn.execute(
                sa.select(mv.c.archived_at).where(mv.c.name == name, mv.c.version == version)
            ).scalar()
            if version is not None and archived is not None:
                raise GovernanceError(
                    f"{name}@{version} is archived; an alias cannot point at it",
                    hint=f"`assay models restore {name}@{version} --reason ...` brings it back",
                )
            if current is not None:
                conn.execute(a.delete().where(*where))
            if version is not None:
                conn.execute(
                    a.insert().values(
                        name=name, alias=alias, version=version, moved_at=now, moved_by=by
                    )
                )
            move = AliasMoveRecord(name, alias, version, current, now, by, reason, request_id)
            conn.execute(t.alias_moves.insert().values(asdict(move)))
            payload = {"version": version, "previous": current, "reason": reason, "at": now}
            if request_id:
                payload["request"] = request_id
            self.audit(conn, [AuditEntry("alias.moved", f"model:{name}@{alias}", payload)], by)
        return move

    def alias_moves(
        self, name: str, alias: str | None = None, until: float | None = None
    ) -> list[AliasMoveRecord]:
        """The history of ``name``'s aliases (or one alias), oldest first, up to ``until``."""
        m = t.alias_moves
        q = sa.select(m).where(m.c.name == name).order_by(m.c.moved_at, m.c.id)
        if alias is not None:
            q = q.where(m.c.alias == alias)
        if until is not None:
            q = q.where(m.c.moved_at <= until)
        with self._read() as conn:
            rows = conn.execute(q).mappings().all()
        return [AliasMoveRecord(**{k: v for k, v in r.items() if k != "id"}) for r in rows]

    # -- gate verdicts --------------------------------------------------------------------

    def verdicts(self, name: str, version: int | None = None) -> list[GateVerdictRecord]:
        """Gate verdicts on a model (or one version), oldest first."""
        v = t.gate_verdicts
        q = VERDICTS_OF_MODEL
        if version is not None:
            q = q.where(v.c.version == version)
        with self._read() as conn:
            rows = conn.execute(q, {"name": name}).mappings().all()
        return [GateVerdictRecord(**{k: x for k, x in r.items() if k != "id"}) for r in rows]

    # -- promotion requests ---------------------------------------------------------------

    def open_request(self, request: PromotionRequestRecord) -> PromotionRequestRecord:
        """Record a new promotion request, unless one to make the same version the same
        alias is open (checked inside the transaction, so two asking at once open one).
        Returns it as recorded: asked at the moment it is written.

        Raises:
            GovernanceError: such a request is already open.
        """
        pr = t.promotion_requests
        with self._write() as conn:
            lock_state(conn, STATE_TABLES, self.sealer)  # what the decision read, too
            held = sa.select(pr.c.id).where(
                pr.c.name == request.name,
                pr.c.version == request.version,
                pr.c.alias == request.alias,
                pr.c.status == "open",
            )
            if conn.execute(held.limit(1)).first() is not None:
                raise GovernanceError(
                    f"a request to make {request.name}@{request.version} {request.alias} is "
                    "already open",
                    hint="approvers review it with `assay models approve`",
                )
            request = replace(request, requested_at=time.time())  # in the order of writes
            row = asdict(request)
            row.pop("reviews")
            conn.execute(pr.insert().values(row))
            payload = {
                "request": request.id,
                "alias": request.alias,
                "required": request.required,
                "comment": request.comment,
                "at": request.requested_at,
            }
            self.audit(
                conn,
                [
                    AuditEntry(
                        "promotion.requested", f"model:{request.name}@{request.version}", payload
                    )
                ],
                request.requested_by,
            )
        return request

    def get_request(self, ref: str) -> PromotionRequestRecord:
        """The promotion request whose id is or starts with ``ref``."""
        with self._read() as conn:
            row = one_by_prefix(
                conn, t.promotion_requests, t.promotion_requests.c.id, ref, "promotion request"
            )
            return self._with_reviews(conn, [row])[0]

    def requests(
        self, name: str | None = None, version: int | None = None, status: str | None = None
    ) -> list[PromotionRequestRecord]:
        """Promotion requests, oldest first, with their reviews."""
        pr = t.promotion_requests
        q = sa.select(pr).order_by(pr.c.requested_at)
        for column, value in ((pr.c.name, name), (pr.c.version, version), (pr.c.status, status)):
            if value is not None:
                q = q.where(column == value)
        with self._read() as conn:
            return self._with_reviews(conn, conn.execute(q).mappings().all())

    def add_review(self, review: ReviewRecord) -> str:
        """Record a reviewer's decision on an open request; returns the request's status
        after it: ``rejected`` on a rejection, ``approved`` once the approvals reach the
        number the request requires, else still ``open``.

        The request's status and its approvals are read inside the transaction, so a review
        never lands on a request that another review or a move closed meanwhile, nor misses
        an approval written meanwhile; the review is timed as it is written.

        Raises:
            GovernanceError: the request is no longer open, or this reviewer already
                reviewed it.
        """
        pr, rv = t.promotion_requests, t.reviews
        try:
            with self._write() as conn:
                lock_state(conn, STATE_TABLES, self.sealer)  # what the decision read, too
                request = conn.execute(
                    sa.select(
                        pr.c.name, pr.c.version, pr.c.alias, pr.c.status, pr.c.required
                    ).where(pr.c.id == review.request_id)
                ).one()
                if request.status != "open":
                    raise no_request(request.name, request.version, request.alias, "open")
                review = replace(review, at=time.time())  # in the order of writes
                conn.execute(rv.insert().values(asdict(review)))
                approvals = conn.execute(
                    sa.select(sa.func.count()).where(
                        rv.c.request_id == review.request_id, rv.c.decision == "approve"
                    )
                ).scalar_one()
                status = (
                    "rejected"
                    if review.decision != "approve"
                    else ("approved" if approvals >= request.required else "open")
                )
                if status != "open":
                    conn.execute(
                        pr.update()
                        .where(pr.c.id == review.request_id)
                        .values(
                            status=status, closed_at=review.at if status == "rejected" else None
                        )
                    )
                payload = {
                    "request": review.request_id,
                    "comment": review.comment,
                    "status": status,
                    "at": review.at,
                }
                action = (
                    "promotion.approved" if review.decision == "approve" else "promotion.rejected"
                )
                subject = f"model:{request.name}@{request.version}"
                self.audit(conn, [AuditEntry(action, subject, payload)], review.reviewer)
        except sa.exc.IntegrityError:
            raise GovernanceError(
                f"{review.reviewer} already reviewed request {review.request_id[:12]}",
                hint="each reviewer decides once; a new request starts a new review",
            ) from None
        return status

    def _with_reviews(
        self, conn: sa.Connection, rows: Sequence[sa.RowMapping]
    ) -> list[PromotionRequestRecord]:
        if not rows:
            return []
        r = t.reviews
        ids = [row["id"] for row in rows]
        found: dict[str, list[ReviewRecord]] = {i: [] for i in ids}
        for rv in conn.execute(
            sa.select(r).where(r.c.request_id.in_(ids)).order_by(r.c.id)
        ).mappings():
            found[rv["request_id"]].append(
                ReviewRecord(**{k: v for k, v in rv.items() if k != "id"})
            )
        return [
            PromotionRequestRecord(**dict(row), reviews=tuple(found[row["id"]])) for row in rows
        ]
