"""Single sign-on through a real OpenID provider on loopback: the authorization code flow
with PKCE, the ID token checked, a groups claim mapped to roles, sessions that end, and every
way a sign-on answer can be forged or replayed refused."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from assay.chain import read_sealed
from assay.errors import AuthenticationError, ConfigError
from assay.governance import roles_of
from assay.server.api.app import TeamOptions, TeamServer
from assay.server.api.http import team_serving
from assay.server.api.oidc import OidcSettings, Provider, parse_role_map
from assay.workspace import open_workspace
from tests.identity import identity_provider, log_in
from tests.server.api.conftest import team_store

PEOPLE = {
    "carol-sub": {"preferred_username": "carol", "groups": ["ml-devs"]},
    "erin-sub": {"preferred_username": "erin", "groups": ["ml-approvers", "finance"]},
    "zed-sub": {"preferred_username": "zed", "groups": ["marketing"]},
}
ROLE_MAP = {"ml-devs": "developer", "ml-approvers": "approver"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with identity_provider(PEOPLE) as url:
        yield url


@dataclasses.dataclass
class Signon:
    client: httpx.Client
    server: TeamServer

    def login(self, sub: str, return_to: str | None = None) -> httpx.Response:
        """Log ``sub`` in the way a browser does, up to the callback's answer."""
        params = {"return_to": return_to} if return_to else {}
        sent = self.client.get("/api/v1/auth/login", params=params, follow_redirects=False)
        assert sent.status_code == 302, sent.text
        authorize = sent.headers["location"]
        asked = parse_qs(urlsplit(authorize).query)
        assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"][0]
        assert asked["nonce"][0] and asked["state"][0]
        callback = log_in(authorize, sub)
        assert callback.startswith("http://testserver/api/v1/auth/callback?")
        return self.client.get(callback.removeprefix("http://testserver"), follow_redirects=False)

    def session(self, sub: str) -> dict[str, str]:
        answer = self.login(sub)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def signon(issuer: str, tmp_path: Path) -> Iterator[Signon]:
    settings = team_store(tmp_path)
    ws = open_workspace(settings)
    oidc = OidcSettings(
        issuer=issuer,
        client_id="assay",
        client_secret="s3cret",
        public_url="http://testserver",
        role_map=ROLE_MAP,
    )
    try:
        with (
            team_serving(ws, TeamOptions(auth="oidc", oidc=oidc)) as (url, server),
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            yield Signon(client, server)
    finally:
        ws.close()


def test_a_provider_vouched_approver_approves_and_the_chain_names_the_subject(
    signon: Signon, issuer: str
) -> None:
    carol, erin = signon.session("carol-sub"), signon.session("erin-sub")
    me = signon.client.get("/api/v1/whoami", headers=erin).json()
    assert me["user"] == "erin" and me["roles"] == ["approver"]
    assert me["via"] == {
        "kind": "oidc",
        "issuer": issuer,
        "subject": "erin-sub",
        "roles": "approver",
    }

    asked = signon.client.post(
        "/api/v1/models/toy/promotions", json={"version": 1, "comment": "ready"}, headers=carol
    )
    assert asked.status_code == 201, asked.text
    own = signon.client.post(
        "/api/v1/models/toy/versions/1/promotions/production/approve",
        json={"comment": "mine"},
        headers=carol,
    )
    assert own.status_code == 403 and "approver" in own.json()["error"]
    # erin holds no role in the store: the provider's groups claim makes her an approver.
    assert roles_of(signon.server.ws, "erin") == set()
    approved = signon.client.post(
        "/api/v1/models/toy/versions/1/promotions/production/approve",
        json={"comment": "checked"},
        headers=erin,
    )
    assert approved.status_code == 200, approved.text
    events = read_sealed(signon.server.ws, ["model:toy@1"])
    (approval,) = [e for e in events if e.action == "promotion.approved"]
    assert approval.actor == "erin"
    assert approval.via == {
        "kind": "oidc",
        "issuer": issuer,
        "subject": "erin-sub",
        "roles": "approver",
    }


def test_a_user_the_map_gives_no_role_reads_nothing_and_claims_nothing(signon: Signon) -> None:
    zed = signon.session("zed-sub")
    refused = signon.client.get("/api/v1/users", headers=zed)
    assert refused.status_code == 403 and "viewer" in refused.json()["error"]
    grants = {(g.user, g.role) for g in signon.server.ws.metadata.role_grants()}
    assert not any(user == "zed" for user, _ in grants)


def test_a_session_ends_at_logout_and_is_unknown_after(signon: Signon) -> None:
    erin = signon.session("erin-sub")
    assert signon.client.get("/api/v1/whoami", headers=erin).status_code == 200
    closed = signon.client.delete("/api/v1/auth/session", headers=erin)
    assert closed.json() == {"closed": True}
    after = signon.client.get("/api/v1/whoami", headers=erin)
    assert after.status_code == 401 and "log in again" in after.json()["hint"]
    forged = {"Authorization": "Bearer assay_session_" + "x" * 43}
    assert signon.client.get("/api/v1/whoami", headers=forged).status_code == 401


def test_a_callback_is_used_once_and_only_with_a_state_this_server_began(signon: Signon) -> None:
    sent = signon.client.get("/api/v1/auth/login", follow_redirects=False)
    authorize = sent.headers["location"]
    callback = log_in(authorize, "erin-sub").removeprefix("http://testserver")
    assert signon.client.get(callback).status_code == 200
    replayed = signon.client.get(callback)
    assert replayed.status_code == 401 and "used already" in replayed.json()["error"]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    made_up = signon.client.get("/api/v1/auth/callback", params={"code": code, "state": "mine"})
    assert made_up.status_code == 401
    denied = signon.client.get("/api/v1/auth/login", follow_redirects=False)
    state = parse_qs(urlsplit(denied.headers["location"]).query)["state"][0]
    refused = signon.client.get(
        "/api/v1/auth/callback", params={"state": state, "error": "access_denied"}
    )
    assert refused.status_code == 401 and "access_denied" in refused.json()["error"]


def test_the_session_goes_only_to_a_loopback_listener(signon: Signon) -> None:
    far = signon.client.get(
        "/api/v1/auth/login", params={"return_to": "https://evil.example/steal"}
    )
    assert far.status_code == 400 and "loopback" in far.json()["error"]
    answer = signon.login("carol-sub", return_to="http://127.0.0.1:4999/done?x=1")
    assert answer.status_code == 302
    sent = urlsplit(answer.headers["location"])
    assert (sent.hostname, sent.port, sent.path) == ("127.0.0.1", 4999, "/done")
    query = parse_qs(sent.query)
    assert query["user"] == ["carol"] and query["x"] == ["1"]
    headers = {"Authorization": f"Bearer {query['token'][0]}"}
    assert signon.client.get("/api/v1/whoami", headers=headers).json()["user"] == "carol"


def _id_token(issuer: str, nonce: str) -> str:
    """An ID token straight from the provider, for a login asked with ``nonce``."""
    authorize = httpx.URL(
        f"{issuer}/oauth2/authorize",
        params={
            "client_id": "assay",
            "redirect_uri": "http://testserver/cb",
            "response_type": "code",
            "scope": "openid profile",
            "state": "s",
            "nonce": nonce,
        },
    )
    code = parse_qs(urlsplit(log_in(str(authorize), "erin-sub")).query)["code"][0]
    token = httpx.post(
        f"{issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://testserver/cb",
        },
        auth=("assay", "secret"),
    )
    return str(token.json()["id_token"])


def test_an_id_token_must_carry_our_nonce_audience_and_the_providers_signature(
    issuer: str,
) -> None:
    ours = Provider(OidcSettings(issuer=issuer, client_id="assay", public_url="http://x"))
    token = _id_token(issuer, "n-1")
    assert ours.verify(token, "n-1")["sub"] == "erin-sub"
    with pytest.raises(AuthenticationError, match="not valid"):
        ours.verify(token, "n-2")
    theirs = Provider(OidcSettings(issuer=issuer, client_id="other-app", public_url="http://x"))
    with pytest.raises(AuthenticationError, match="not valid"):
        theirs.verify(token, "n-1")
    head, body, signature = token.split(".")
    forged = ".".join(
        [head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    with pytest.raises(AuthenticationError, match="not valid"):
        ours.verify(forged, "n-1")


def test_settings_refuse_what_cannot_work(issuer: str) -> None:
    assert parse_role_map(["ml-approvers=approver", "a=b=admin"]) == {
        "ml-approvers": "approver",
        "a=b": "admin",
    }
    with pytest.raises(ConfigError, match="CLAIM_VALUE=ROLE"):
        parse_role_map(["approver"])
    with pytest.raises(Exception, match="unknown role"):
        parse_role_map(["x=owner"])
    with pytest.raises(ConfigError, match="issuer"):
        OidcSettings(issuer="", client_id="assay", public_url="http://x")
    wrong = Provider(OidcSettings(issuer=issuer + "/other", client_id="a", public_url="http://x"))
    with pytest.raises(AuthenticationError):
        wrong.configuration()
