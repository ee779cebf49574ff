"""Claim tokens: generation, hashing, and the PKCE verifier derived from a token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits of entropy, from the operating system's CSPRNG


def new_token() -> str:
    """Return a fresh URL-safe claim token with 256 bits of entropy (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of ``token``, the only form the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_verifier(token: str) -> str:
    """Return the PKCE verifier of a hub-style claim link.

    A hub-style link carries the token as ``state`` and nothing else, so the
    callback re-derives the verifier from the token it gets back. Someone who
    intercepts only the authorization code still cannot redeem it.
    """
    digest = hashlib.sha256(b"zaikio-ops pkce verifier\x00" + token.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same_secret(left: str | None, right: str | None) -> bool:
    """Compare two secrets in constant time; ``None`` never matches."""
    if left is None or right is None:
        return False
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
