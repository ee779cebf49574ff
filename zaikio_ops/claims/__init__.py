"""Claim links: issuing them in batches, exporting them, and redeeming them.

A claim maps one local person (or organization) to its Zaikio account. The kit
issues a 256-bit token per person, stores only its SHA-256 hash, and sends the
token through the OAuth redirect flow; the callback exchanges the code and
writes ``bearer.id`` into the app's table exactly once.
"""

from zaikio_ops.claims.errors import ClaimError
from zaikio_ops.claims.generate import generate_organization_claims, generate_person_claims, revoke
from zaikio_ops.claims.links import ClaimLinks
from zaikio_ops.claims.redeem import ClaimOutcome, begin_app_flow, inspect_token, redeem

__all__ = [
    "ClaimError", "ClaimLinks", "ClaimOutcome", "begin_app_flow", "generate_organization_claims",
    "generate_person_claims", "inspect_token", "redeem", "revoke",
]
