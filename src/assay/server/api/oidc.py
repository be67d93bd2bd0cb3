"""Single sign-on with OpenID Connect: the authorization code flow with PKCE through Authlib,
the ID token checked against the provider's published keys (issuer, audience, expiry,
nonce), and one claim (groups, say) mapped to assay's roles."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from assay.errors import AuthenticationError, ConfigError
from assay.governance import Principal
from assay.governance.roles import check_role
from assay.server.api.sessions import Pending

__all__ = ["CALLBACK_PATH", "OidcSettings", "Provider", "parse_role_map"]

CALLBACK_PATH = "/api/v1/auth/callback"
_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """How the team server signs people on through an OpenID provider.

    Attributes:
        issuer: the provider's issuer URL (its ``/.well-known/openid-configuration`` is
            read from there); for Entra ID ``https://login.microsoftonline.com/TENANT/v2.0``.
        client_id: this server's client (application) id at the provider.
        client_secret: its secret; empty for a public client (PKCE alone).
        public_url: this server's address as browsers reach it; the provider sends them back
            to ``public_url + CALLBACK_PATH``, which must be registered there.
        user_claim: the claim naming the user in assay (then ``email``, then ``sub``).
        roles_claim: the claim listing the user's groups or app roles.
        role_map: a value of ``roles_claim`` -> the assay role it confers.
        scopes: asked of the provider.
        session_hours: how long a sign-on lasts.
    """

    issuer: str
    client_id: str
    public_url: str
    client_secret: str = ""
    user_claim: str = "preferred_username"
    roles_claim: str = "groups"
    role_map: Mapping[str, str] = field(default_factory=dict)
    scopes: str = "openid profile email"
    session_hours: float = 12.0

    def __post_init__(self) -> None:
        for name in ("issuer", "client_id", "public_url"):
            if not getattr(self, name).strip():
                raise ConfigError(
                    f"single sign-on needs its {name.replace('_', ' ')}",
                    hint="see `assay server --help`: --oidc-issuer, --oidc-client-id, --public-url",
                )
        for role in self.role_map.values():
            check_role(role)

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back."""
        return self.public_url.rstrip("/") + CALLBACK_PATH


def parse_role_map(pairs: list[str]) -> dict[str, str]:
    """``["assay-approvers=approver", ...]`` as a mapping.

    Raises:
        ConfigError: a pair without ``=``, or a role assay does not have.
    """
    mapped: dict[str, str] = {}
    for pair in pairs:
        value, sep, role = pair.rpartition("=")
        if not sep or not value.strip():
            raise ConfigError(
                f"role mapping {pair!r} is not CLAIM_VALUE=ROLE",
                hint="e.g. --oidc-role assay-approvers=approver",
            )
        mapped[value.strip()] = check_role(role.strip())
    return mapped


class Provider:
    """The identity provider, as one server sees it: its endpoints and keys (read once, the
    keys again when a token names one not seen), logins sent there and tokens back."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _client(self) -> OAuth2Session:
        s = self.settings
        return OAuth2Session(
            s.client_id,
            s.client_secret or None,
            scope=s.scopes,
            redirect_uri=s.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if s.client_secret else "none",
        )

    def _get(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = requests.get(url, timeout=_TIMEOUT_S)
            answer.raise_for_status()
            found = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise AuthenticationError(
                f"the identity provider's {what} could not be read from {url}: {exc}",
                hint="check --oidc-issuer and that the provider is reachable from the server",
            ) from exc
        if not isinstance(found, dict):
            raise AuthenticationError(f"the identity provider's {what} at {url} is not an object")
        return found

    def configuration(self) -> dict[str, Any]:
        """The provider's discovery document (read once)."""
        with self._lock:
            if self._config is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                config = self._get(url, "configuration")
                if config.get("issuer", "").rstrip("/") != self.settings.issuer.rstrip("/"):
                    raise AuthenticationError(
                        f"the provider at {url} calls itself {config.get('issuer')!r}, not "
                        f"{self.settings.issuer!r}",
                        hint="set --oidc-issuer to exactly the issuer the provider publishes",
                    )
                self._config = config
            return self._config

    def authorization_url(self, state: str, pending: Pending) -> str:
        """Where to send the browser to log in (with the PKCE challenge and the nonce)."""
        endpoint = self.configuration()["authorization_endpoint"]
        url, _ = self._client().create_authorization_url(
            endpoint, state=state, code_verifier=pending.verifier, nonce=pending.nonce
        )
        return str(url)

    def exchange(self, code: str, pending: Pending) -> dict[str, Any]:
        """The checked claims of the ID token the authorization ``code`` is exchanged for.

        Raises:
            AuthenticationError: the provider refused the code, or the token is not valid
                for this server (signature, issuer, audience, expiry, nonce).
        """
        endpoint = self.configuration()["token_endpoint"]
        try:
            token = self._client().fetch_token(
                endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.verifier,
                timeout=_TIMEOUT_S,
            )
        except Exception as exc:  # Authlib raises its own errors and requests' alike
            raise AuthenticationError(
                f"the identity provider refused the sign-on: {exc}",
                hint="log in again; if it persists, check the client id and secret",
            ) from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise AuthenticationError(
                "the identity provider answered without an ID token",
                hint="the client must ask for the openid scope",
            )
        return self.verify(id_token, pending.nonce)

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` once its signature and claims hold."""
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(refresh=False))
            except JoseError:
                decoded = jwt.decode(id_token, self._key_set(refresh=True))
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.configuration()["issuer"]},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(
                f"the ID token is not valid for this server: {exc}",
                hint="log in again; check the server's clock and --oidc-client-id",
            ) from exc
        return dict(decoded.claims)

    def _key_set(self, *, refresh: bool) -> KeySet:
        with self._lock:
            have = self._keys
        if have is not None and not refresh:
            return have
        found = self._get(str(self.configuration()["jwks_uri"]), "signing keys")
        keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
        with self._lock:
            self._keys = keys
        return keys

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """Who the claims name, with the roles their ``roles_claim`` maps to."""
        s = self.settings
        name = next(
            (
                str(claims[c]).strip()
                for c in (s.user_claim, "email", "sub")
                if isinstance(claims.get(c), str) and str(claims[c]).strip()
            ),
            "",
        )
        listed = claims.get(s.roles_claim)
        values = [listed] if isinstance(listed, str) else listed
        granted = frozenset(
            s.role_map[v] for v in values or () if isinstance(v, str) and v in s.role_map
        )
        via = {
            "kind": "oidc",
            "issuer": str(claims["iss"]),
            "subject": str(claims["sub"]),
            "roles": ",".join(sorted(granted)),
        }
        return Principal(name, None, via, granted)
