"""Authorize URLs, PKCE pairs and callback parsing for the Zaikio redirect flow.

Zaikio expects comma-separated scopes, an opaque ``state`` that comes back
unchanged, optional PKCE (``S256`` or ``plain``) and optional prefill values
``person[first_name]``, ``person[name]`` (the last name) and ``person[email]``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from zaikio_ops.hub.errors import StateMismatch, oauth_error_from_id, HubProtocolError
from zaikio_ops.secret import Secret

__all__ = ["PkcePair", "PersonPrefill", "generate_pkce", "s256_challenge", "build_authorize_url", "parse_callback"]


@dataclass(frozen=True)
class PkcePair:
    """A PKCE code verifier (secret) and its challenge."""

    verifier: Secret
    challenge: str
    method: str = "S256"


@dataclass(frozen=True)
class PersonPrefill:
    """Values that prefill the Hub's sign-up form for a person without an account."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


def s256_challenge(verifier: str) -> str:
    """Return the S256 challenge (base64url SHA-256 without padding) of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_pkce(method: str = "S256") -> PkcePair:
    """Generate a 43-character PKCE verifier (RFC 7636) and its challenge.

    Parameters
    ----------
    method : {"S256", "plain"}
        Challenge method; ``plain`` only for testing servers that need it.
    """
    if method not in ("S256", "plain"):
        raise ValueError(f"PKCE method {method!r} is not supported; use 'S256' or 'plain'.")

    verifier = secrets.token_urlsafe(32)
    challenge = s256_challenge(verifier) if method == "S256" else verifier
    return PkcePair(Secret(verifier), challenge, method)


def build_authorize_url(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: list[str] | tuple[str, ...],
    state: str | Secret,
    *,
    pkce: PkcePair | None = None,
    prefill: PersonPrefill | None = None,
    lang: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """Build the ``GET /oauth/authorize`` URL of the redirect flow.

    Parameters
    ----------
    base_url : str
        Hub origin, e.g. ``https://hub.sandbox.zaikio.com``.
    client_id : str
        The app's OAuth client id.
    redirect_uri : str
        Must equal one of the app's registered redirect URIs exactly.
    scopes : sequence of str
        Scopes such as ``zaikio.person.r`` or ``Org.zaikio.organization.r``; joined with commas.
    state : str or Secret
        Opaque value returned in the callback. For claim links this is the claim
        token, so the URL itself must be treated as a secret.
    pkce : PkcePair, optional
        Adds ``code_challenge`` and ``code_challenge_method``.
    prefill : PersonPrefill, optional
        Adds ``person[first_name]``, ``person[name]`` and ``person[email]``.
    lang : str, optional
        Hub UI language (``en`` or ``de``).
    extra : dict, optional
        Further query parameters (``force_login``, ``prompt``, ...).

    Returns
    -------
    str
        The full URL; bracket keys are percent-encoded.
    """
    state_value = state.reveal() if isinstance(state, Secret) else state
    params: list[tuple[str, str]] = [
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", ",".join(scopes)),
        ("state", state_value),
    ]

    if pkce is not None:
        params += [("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method)]

    if prefill is not None:
        for key, value in (("first_name", prefill.first_name), ("name", prefill.last_name),
                           ("email", prefill.email)):
            if value:
                params.append((f"person[{key}]", value))

    if lang:
        params.append(("lang", lang))

    params += list((extra or {}).items())
    return f"{base_url.rstrip('/')}/oauth/authorize?{urlencode(params)}"


def parse_callback(callback_url: str, expected_state: str | Secret | None) -> str:
    """Return the authorization code from a redirect-flow callback URL.

    Parameters
    ----------
    callback_url : str
        The URL the Hub redirected the browser to.
    expected_state : str, Secret or None
        The state sent with the authorize request; None skips the check
        (only for callers that look the state up themselves).

    Raises
    ------
    OAuthError
        The callback carries ``error`` (``access_denied``, ``invalid_scope``, ...).
    StateMismatch
        ``state`` is missing or differs from ``expected_state``.
    HubProtocolError
        The callback has neither ``code`` nor ``error``.
    """
    query = parse_qs(urlsplit(callback_url).query)
    error = query.get("error", [None])[0]

    if error:
        description = query.get("error_description", [None])[0]
        raise oauth_error_from_id(error, description, status=None, method="GET", path="/oauth/authorize")

    if expected_state is not None:
        expected = expected_state.reveal() if isinstance(expected_state, Secret) else expected_state
        received = query.get("state", [""])[0]
        if not secrets.compare_digest(received.encode(), expected.encode()):
            raise StateMismatch()

    code = query.get("code", [None])[0]
    if not code:
        raise HubProtocolError("The OAuth callback URL has neither a code nor an error parameter.")
    return code
