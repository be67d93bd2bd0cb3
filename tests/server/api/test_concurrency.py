"""Eight clients at once against one team server over PostgreSQL, for 60 s: three developers
ask for promotions and move aliases with compare-and-set, two approvers approve what is
open, three readers list runs, models, requests, history and the audit log (the admin
verifies the chain now and then, while the others write).

What it proves, whatever the interleaving: no answer is a 5xx, and every answer is one the
route documents for that case; every alias move a client was told of is in the model's
history, with its version, mover and request, and the history holds no move nobody made;
each alias's history is one unbroken chain (no lost update) ending where the alias points;
four eyes held for every move, an approved request is spent by one move only, a request
needing one approval gets one, no two requests for the same version and alias are open at
once; the audit chain verifies, during the run and after it, through the API and on the
store, and seals one ``alias.moved`` event per move.

``ASSAY_CONCURRENCY_S`` shortens the run while developing (the lower bounds scale with it).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import assay
from assay import Settings
from assay.audit import verify_chain
from assay.governance import grant, issue_token
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.workspace import open_workspace
from tests.governed import POLICY, toy, write_project
from tests.metadata.conftest import postgres_schema_url

pytestmark = pytest.mark.postgres

DURATION_S = float(os.environ.get("ASSAY_CONCURRENCY_S", "60"))
"""How long the clients work (60 s unless shortened while developing)."""
MAX_ROUNDS = 20_000
"""A bound on each client's rounds, beside the time: no loop runs on if time stands still."""
VERSIONS = 4
ALIASES = ("candidate", "staging", "production")
DEVELOPERS = ("carol", "frank", "gina")  # carol trained every version
APPROVERS = ("bob", "erin")
READERS = ("ann", "dave", "hank")  # the admin, and two viewers
ROLES = {
    "ann": "admin",
    **dict.fromkeys(DEVELOPERS, "developer"),
    **dict.fromkeys(APPROVERS, "approver"),
    "dave": "viewer",
    "hank": "viewer",
}

# Every alias here waits for one approver, so every move goes through a request.
APPROVED_POLICY = POLICY.replace(
    "  approvers: 1\n", "  approvers: 1\n  aliases: [candidate, staging, production]\n"
)
assert APPROVED_POLICY != POLICY

# The refusals each route may give under contention (a 409 whose message says which),
# and why each is right there:
#   a request: one for that version and alias is open already;
#   an approval: the request is no longer open (the other approver approved it, or it was
#     spent), or this approver reviewed it already;
#   a move: the alias moved since the client looked (compare-and-set), or the approved
#     request was spent by another developer's move meanwhile.
# No 403: approvers never train nor ask, developers never review, readers only read.
# No 404: every route names the model and versions that exist.
REFUSALS: dict[str, tuple[str, ...]] = {
    "POST /models/toy/promotions": ("is already open",),
    "POST /models/toy/versions/{v}/promotions/{alias}/approve": (
        "no open request to make",
        "already reviewed request",
    ),
    "POST /models/toy/aliases/{alias}": (
        "now, not",
        "is not set, not",
        "meanwhile",
        "no approved request to make",
    ),
}
SUCCESS = {"POST /models/toy/promotions": 201}


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    who: str
    route: str
    status: int
    text: str


@dataclasses.dataclass
class Client:
    """One member's HTTP client, keeping every answer it got."""

    who: str
    http: httpx.Client
    answers: list[Answer] = dataclasses.field(default_factory=list)
    moves: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    verified: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def call(self, method: str, route: str, path: str, **kwargs: Any) -> httpx.Response:
        found = self.http.request(method, path, **kwargs)
        text = found.text if found.status_code >= 300 else ""
        self.answers.append(Answer(self.who, f"{method} {route}", found.status_code, text))
        return found

    def read(self, path: str, **params: Any) -> Any:
        """GET ``path``; its JSON body, or None when the answer was not a 200."""
        found = self.call("GET", path, path, params=params)
        return found.json() if found.status_code == 200 else None


def develop(c: Client, rng: random.Random, deadline: float) -> None:
    """Move an alias as an approved request asks (compare-and-set against the alias as
    just read), or ask for a promotion."""
    for _ in range(MAX_ROUNDS):
        if time.monotonic() >= deadline:
            return
        approved = c.read("/promotions", name="toy", status="approved")
        if approved and approved["requests"] and rng.random() < 0.8:
            asked = rng.choice(approved["requests"])
            alias = asked["alias"]
            seen = c.read("/models/toy/history", alias=alias)
            if seen is None:
                continue
            held = seen["moves"][-1]["version"] if seen["moves"] else None
            moved = c.call(
                "POST",
                "/models/toy/aliases/{alias}",
                f"/models/toy/aliases/{alias}",
                json={
                    "version": asked["version"],
                    "reason": f"{c.who} moves it",
                    "expect": True,
                    "expected_version": held,
                },
            )
            if moved.status_code == 200:
                c.moves.append(moved.json())
        else:
            c.call(
                "POST",
                "/models/toy/promotions",
                "/models/toy/promotions",
                json={
                    "version": rng.randint(1, VERSIONS),
                    "alias": rng.choice(ALIASES),
                    "comment": f"{c.who} asks",
                },
            )


def approve(c: Client, rng: random.Random, deadline: float) -> None:
    """Approve one of the open requests (the other approver may be on it too)."""
    for _ in range(MAX_ROUNDS):
        if time.monotonic() >= deadline:
            return
        found = c.read("/promotions", name="toy", status="open")
        if not found or not found["requests"]:
            time.sleep(0.02)  # nothing to review yet: leave the CPU to the others
            continue
        asked = rng.choice(found["requests"])
        c.call(
            "POST",
            "/models/toy/versions/{v}/promotions/{alias}/approve",
            f"/models/toy/versions/{asked['version']}/promotions/{asked['alias']}/approve",
            json={"comment": f"{c.who} checked it"},
        )


def read(c: Client, rng: random.Random, deadline: float) -> None:
    """Read what a dashboard reads; the admin also verifies the chain now and then."""
    for round_ in range(MAX_ROUNDS):
        if time.monotonic() >= deadline:
            return
        c.read("/runs", limit=20)
        c.read("/models", name="toy")
        c.read(f"/models/toy/versions/{rng.randint(1, VERSIONS)}")
        c.read("/models/toy/history", alias=rng.choice(ALIASES))
        c.read("/promotions", name="toy")
        c.read("/audit", action="alias.moved", limit=50)
        if c.who == "ann" and round_ % 10 == 9:
            report = c.read("/audit/verify", artifacts=False)
            if report is not None:
                c.verified.append(report)


WORK: dict[str, Callable[[Client, random.Random, float], None]] = {
    **dict.fromkeys(DEVELOPERS, develop),
    **dict.fromkeys(APPROVERS, approve),
    **dict.fromkeys(READERS, read),
}


@dataclasses.dataclass
class Server:
    url: str
    settings: Settings
    tokens: dict[str, str]

    def client(self, who: str) -> Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return Client(who, httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The team server over a fresh PostgreSQL schema holding toy@1..4, each trained by
    carol and through its gates, and a token for every member."""
    urls = postgres_schema_url()
    settings = dataclasses.replace(
        Settings.for_project(tmp_path / "project", user="ann"),
        db_url=next(urls),
        audit_home=str(tmp_path / "state" / "assay"),
    )
    try:
        ws = open_workspace(settings)
        try:
            for user, role in ROLES.items():
                if user != "ann":  # the first user of the store is its admin
                    grant(ws, user, role)
            carol = open_workspace(settings.as_user("carol"))
            try:
                policy, card = write_project(tmp_path / "toy", policy=APPROVED_POLICY)
                for weight in range(VERSIONS):
                    params = {"policy": policy, "card": card, "weight": float(weight)}
                    assay.run(toy, params, workspace=carol)
            finally:
                carol.close()
            tokens = {user: issue_token(ws, user, role).token for user, role in ROLES.items()}
            with team_serving(ws, TeamOptions(auth="token")) as (url, _):
                yield Server(url, settings, tokens)
        finally:
            ws.close()
    finally:
        next(urls, None)  # drops the schema


def work_together(server: Server) -> list[Client]:
    """Every member at work in a thread of their own until the deadline; their clients."""
    clients = [server.client(who) for who in WORK]
    deadline = time.monotonic() + DURATION_S
    try:
        with ThreadPoolExecutor(len(clients), thread_name_prefix="member") as pool:
            running = [
                pool.submit(WORK[c.who], c, random.Random(f"{c.who}-{i}"), deadline)
                for i, c in enumerate(clients)
            ]
            for each in running:
                each.result(timeout=DURATION_S + 180)  # a client that failed fails the test
    finally:
        for c in clients:
            c.http.close()
    return clients


def expected(a: Answer) -> bool:
    """Whether ``a`` is an answer its route gives: success, or a refusal it documents."""
    if a.status == SUCCESS.get(a.route, 200):
        return True
    if a.status != 409 or a.route not in REFUSALS:
        return False
    body = json.loads(a.text)
    return body.get("kind") == "GovernanceError" and any(
        words in body["error"] for words in REFUSALS[a.route]
    )


def every_page(c: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every audit event of ``path``'s pages."""
    found: list[dict[str, Any]] = []
    after = 0
    for _ in range(10_000):
        page = c.get(path, params={**params, "after": after, "limit": 500})
        assert page.status_code == 200, page.text
        found += page.json()["events"]
        after = page.json()["next"]
        if after is None:
            return found
    pytest.fail(f"{path} never ended")


def broken(ann: httpx.Client, moves: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each invariant the store's final state breaks, and where: ``moves`` are those the
    clients were told of, each with the ``client`` who made it."""
    found: list[tuple[str, str]] = []

    # Every move a client was told of is in the history, as it was told, and nothing else.
    history = ann.get("/models/toy/history").json()["moves"]
    fields = ("alias", "version", "previous", "moved_by", "moved_at", "request_id")
    told = Counter(tuple(m[f] for f in fields) for m in moves)
    kept = Counter(tuple(m[f] for f in fields) for m in history)
    if told != kept:
        found.append(("the history is not the moves made", f"{told - kept} | {kept - told}"))
    found += [("a move names another mover", str(m)) for m in moves if m["moved_by"] != m["client"]]

    # Each alias's history is one chain, every move starting where the one before ended
    # (no lost update), and ends where the alias points now.
    ends: dict[str, int] = {}
    for alias in ALIASES:
        held: int | None = None
        for m in (m for m in history if m["alias"] == alias):
            if m["previous"] != held:
                found.append(("a lost update", f"{alias} held {held}, then {m}"))
            held = m["version"]
        if held is not None:
            ends[alias] = held
    listed = ann.get("/models", params={"name": "toy"}).json()["versions"]
    now = {alias: v["version"] for v in listed for alias in v["aliases"]}
    if now != ends:
        found.append(("the aliases are not where their histories end", f"{now}, {ends}"))

    # Four eyes held for every move, an approved request was spent by one move, and a
    # request that needed one approval got one (the second approver is refused: not open).
    requests = {r["id"]: r for r in ann.get("/promotions").json()["requests"]}
    spent = Counter(m["request_id"] for m in history)
    found += [
        ("an approved request spent by several moves", f"{r}: {n} moves")
        for r, n in spent.items()
        if n > 1
    ]
    for m in history:
        r = requests.get(m["request_id"], {})
        yes = {x["reviewer"] for x in r.get("reviews", ()) if x["decision"] == "approve"}
        if (
            (r.get("status"), r.get("alias"), r.get("version"))
            != ("done", m["alias"], m["version"])
            or not yes
            or not yes <= set(APPROVERS)
            or r["requested_by"] not in DEVELOPERS
        ):
            found.append(("a move its request does not allow", f"{m}, {r}"))
    for r in requests.values():
        if (r["status"] == "done") != (r["id"] in spent):
            found.append(("a request's status", f"{r['id']} {r['status']}: {spent[r['id']]} moves"))
        if len(r["reviews"]) > r["required"]:
            reviewers = [x["reviewer"] for x in r["reviews"]]
            found.append(("more approvals than asked for", f"{r['id']}: {reviewers}"))

    # No two requests for the same version and alias were open at once: a request is open
    # from its asking until its first review.
    asked: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in requests.values():
        asked.setdefault((r["version"], r["alias"]), []).append(r)
    for same in asked.values():
        same.sort(key=lambda r: r["requested_at"])
        for before, after in itertools.pairwise(same):
            closed = min((x["at"] for x in before["reviews"]), default=float("inf"))
            if after["requested_at"] <= closed:
                found.append(("two requests open at once", f"{before}, {after}"))

    # The chain verifies now, and sealed each move once.
    verified = ann.get("/audit/verify")
    if not verified.json()["ok"]:
        found.append(("the chain does not verify at the end", verified.text))
    sealed = every_page(ann, "/audit", action="alias.moved")
    if Counter(e["payload"].get("request") for e in sealed) != spent:
        found.append(("the alias.moved events are not the history", str(sealed)))
    return found


def test_eight_clients_approving_promoting_and_reading_at_once(server: Server) -> None:
    started = time.monotonic()
    clients = work_together(server)
    took = time.monotonic() - started
    answers = [a for c in clients for a in c.answers]
    moves = [m | {"client": c.who} for c in clients for m in c.moves]
    tally = Counter((a.route, a.status) for a in answers)
    asked = tally["POST /models/toy/promotions", 201]
    approved = tally["POST /models/toy/versions/{v}/promotions/{alias}/approve", 200]
    stale = tally["POST /models/toy/aliases/{alias}", 409]
    first = min((m["moved_at"] for m in moves), default=0.0)
    quarters = Counter(min(int(4 * (m["moved_at"] - first) / took), 3) for m in moves)
    print(
        f"\n{len(answers)} answers in {took:.1f} s: {len(moves)} moves (by quarter of the "
        f"time: {[quarters[q] for q in range(4)]}), {stale} moves refused (409), "
        f"{asked} requests, {approved} approvals; "
        + ", ".join(f"{route} {status}: {n}" for (route, status), n in sorted(tally.items()))
    )

    # Nothing failed, and every refusal is one the route documents for this case.
    failed = Counter((a.route, a.status, a.text[:300]) for a in answers if a.status >= 500)
    assert not failed, f"{failed.total()} answers were 5xx: {failed.most_common(5)}"
    unexpected = Counter((a.route, a.status, a.text[:300]) for a in answers if not expected(a))
    assert not unexpected, f"{unexpected.total()} unexpected answers: {unexpected.most_common(5)}"

    # Enough happened for the checks below to mean something.
    # A quiet two-core machine gives some 3000 answers and 90 moves in 60 s: the bounds
    # leave room for a loaded one.
    scale = min(DURATION_S, 60.0) / 60.0
    assert len(answers) > 1000 * scale
    assert len(moves) > 40 * scale
    assert asked > 40 * scale and approved > 40 * scale

    # Every invariant holds; a broken one is named with its first case and how often.
    with server.client("ann").http as ann:
        found = broken(ann, moves)
    # A verification while the others wrote read one state: it found nothing wrong either.
    found += [
        ("/audit/verify during the run finds problems", str(report["problems"][:3]))
        for c in clients
        for report in c.verified
        if not report["ok"]
    ]
    ws = open_workspace(server.settings)
    try:
        report = verify_chain(ws)
        if not report.ok:
            found.append(("verify_chain on the store finds problems", str(report.problems[:3])))
    finally:
        ws.close()
    kinds = Counter(kind for kind, _ in found)
    assert not found, "broken invariants:\n" + "\n".join(
        f"{kind} ({n} times), first: {next(where for k, where in found if k == kind)}"
        for kind, n in kinds.items()
    )
