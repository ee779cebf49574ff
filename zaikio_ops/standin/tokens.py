"""RS256 access tokens and the JSON Web Key Set of the stand-in Hub.

Claims follow Zaikio's tokens: ``iss`` ``"ZAI"``, ``sub`` ``Person/<uuid>`` or
``Organization/<uuid>``, ``aud`` a list of app names, ``jti`` a UUID, ``nbf``,
``exp``, ``jku`` (the JWKS URL) and ``scope`` as a list. The RSA key is created
when the signer is, so tokens from an earlier run never verify.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["TokenSigner", "ISSUER", "JWKS_PATH"]

ISSUER = "ZAI"
JWKS_PATH = "/api/v1/jwt_public_keys"


class TokenSigner:
    """Signs and verifies access tokens with one RSA key generated at construction.

    Parameters
    ----------
    clock : callable
        Returns the current Unix time; injectable for expiry tests.
    key_size : int
        RSA modulus size in bits.
    """

    def __init__(self, clock: Callable[[], float] = time.time, key_size: int = 2048) -> None:
        self._clock = clock
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self._public_key = self._private_key.public_key()
        der = self._public_key.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = hashlib.sha256(der).hexdigest()

    def __repr__(self) -> str:
        return f"TokenSigner(kid={self.kid[:12]}…)"

    def issue(self, *, subject: str, audiences: list[str], scopes: list[str], lifetime: int,
              jwks_url: str) -> tuple[str, dict[str, Any]]:
        """Return a signed JWT and its claims.

        Parameters
        ----------
        subject : str
            ``Person/<uuid>`` or ``Organization/<uuid>``.
        audiences : list of str
            App names.
        scopes : list of str
            Plain scopes without bearer prefix.
        lifetime : int
            Seconds until ``exp``.
        jwks_url : str
            Value of the ``jku`` claim.
        """
        now = int(self._clock())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": list(audiences),
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "exp": now + lifetime,
            "jku": jwks_url,
            "scope": list(scopes),
        }
        token = jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})
        return token, claims

    def decode(self, token: str) -> dict[str, Any]:
        """Verify the signature and ``exp`` (against the injected clock) and return the claims.

        Raises
        ------
        jwt.ExpiredSignatureError
            ``exp`` is not after the clock's current time.
        jwt.PyJWTError
            Any other verification failure (signature, format, missing claim).
        """
        claims = jwt.decode(token, self._public_key, algorithms=["RS256"],
                            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                                     "require": ["exp", "sub", "jti"]})
        if claims["exp"] <= self._clock():
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims

    def jwks(self) -> dict[str, Any]:
        """Return ``{"keys": [{"kty", "n", "e", "kid"}]}`` for the public key."""
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key, as_dict=True)
        return {"keys": [{"kty": jwk["kty"], "n": jwk["n"], "e": jwk["e"], "kid": self.kid}]}
