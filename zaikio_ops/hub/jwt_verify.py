"""Verify Zaikio access tokens (RS256 JWTs) against the Hub's JSON Web Key Set."""

from __future__ import annotations

from typing import Any, Iterable

import jwt

from zaikio_ops.hub.errors import HubError
from zaikio_ops.hub.models import AccessToken
from zaikio_ops.secret import Secret

__all__ = ["InvalidAccessToken", "verify_access_token"]


class InvalidAccessToken(HubError):
    """The JWT's signature, expiry, key id or audience did not check out, or it was revoked."""


def verify_access_token(
    token: AccessToken | Secret | str,
    jwks: dict[str, Any],
    *,
    audience: str | None = None,
    revoked_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """Check an access token's RS256 signature and expiry and return its claims.

    Parameters
    ----------
    token : AccessToken, Secret or str
        The JWT.
    jwks : dict
        ``{"keys": [...]}`` from ``GET /api/v1/jwt_public_keys``.
    audience : str, optional
        App name the ``aud`` claim must contain; None skips the check, as
        Zaikio's own verifier does by default.
    revoked_ids : iterable of str
        ``jti`` values from ``GET /api/v1/revoked_access_tokens``.

    Raises
    ------
    InvalidAccessToken
        The token fails any check; the message names the check, never the token.
    """
    if isinstance(token, AccessToken):
        token = token.access_token
    value = token.reveal() if isinstance(token, Secret) else token

    try:
        kid = jwt.get_unverified_header(value).get("kid")
        key_set = jwt.PyJWKSet.from_dict(jwks)
        keys = [k for k in key_set.keys if k.key_id == kid] or list(key_set.keys)
        claims = _decode_with_any(value, keys, audience)
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken(
            f"The access token failed verification ({type(exc).__name__}: {exc}); get a new token."
        ) from None

    if claims.get("jti") in set(revoked_ids):
        raise InvalidAccessToken(f"The access token {claims.get('jti')} was revoked; get a new token.")
    return claims


def _decode_with_any(value: str, keys: list[jwt.PyJWK], audience: str | None) -> dict[str, Any]:
    options = {"verify_aud": audience is not None, "require": ["exp", "sub", "jti"]}
    last_error: jwt.PyJWTError = jwt.InvalidKeyError("The key set contains no keys.")

    for key in keys:
        try:
            return jwt.decode(value, key=key.key, algorithms=["RS256"], audience=audience, options=options)
        except jwt.InvalidSignatureError as exc:
            last_error = exc

    raise last_error
