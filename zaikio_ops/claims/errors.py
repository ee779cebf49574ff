"""Claim rejection errors. Each has a stable reason code that pages and events use."""

from __future__ import annotations

from zaikio_ops.errors import ZaikioOpsError


class ClaimError(ZaikioOpsError):
    """A claim cannot be issued or redeemed.

    Attributes
    ----------
    reason : str
        A stable code such as ``expired`` or ``already_used``; pages pick their
        text by it and the event log stores it.
    """

    reason = "claim_failed"

    def __init__(self, message: str, *, reason: str | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason
        self.cause = cause


class TokenNotFound(ClaimError):
    """No claim token has this value: mistyped, truncated or forged."""

    reason = "not_found"


class TokenExpired(ClaimError):
    """The claim token is past its expiry."""

    reason = "expired"


class TokenUsed(ClaimError):
    """The claim token was redeemed already."""

    reason = "already_used"


class TokenRevoked(ClaimError):
    """The claim token was revoked by an admin."""

    reason = "revoked"


class WrongKind(ClaimError):
    """A person token was used for an organization claim or the other way round."""

    reason = "wrong_kind"


class StateMismatch(ClaimError):
    """The OAuth state does not match the one bound to this browser."""

    reason = "state_mismatch"


class AlreadyMapped(ClaimError):
    """The Zaikio account is mapped to another local row, or the local row already has one."""

    reason = "already_mapped"


class NotOwner(ClaimError):
    """The person who completed an organization claim is not one of its owners."""

    reason = "not_owner"


class HubRejected(ClaimError):
    """Zaikio returned an error instead of a code, or refused the code exchange."""

    reason = "hub_error"


class HubUnavailable(ClaimError):
    """Zaikio could not be reached, failed, or rejected the app's own credentials.

    Unlike :class:`HubRejected`, trying again from the link does not help until
    the service or its configuration is fixed.
    """

    reason = "hub_unavailable"
