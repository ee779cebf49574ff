"""A string wrapper that keeps secrets out of logs, reprs and tracebacks."""

from __future__ import annotations


class Secret:
    """A secret value (client secret, access token, claim token) with a masked repr.

    ``str()``, ``repr()`` and f-strings show ``'***'``; only :meth:`reveal`
    returns the value. Two secrets compare equal when their values are equal.

    Parameters
    ----------
    value : str
        The secret itself.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)

    def reveal(self) -> str:
        """Return the secret value; call it only where the value is sent or hashed."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # pragma: no cover - pickling a secret is a mistake
        raise TypeError("Secret values cannot be pickled; pass them through the environment.")


def mask(value: str | None, keep: int = 4) -> str:
    """Return ``value`` with everything after its first ``keep`` characters replaced by ``…``.

    Used to show a claim link or token in a notebook or log without revealing it.
    """
    if not value:
        return ""
    return value[:keep] + "…"
