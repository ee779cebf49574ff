"""Keep claim tokens, codes and secrets out of third-party log lines.

httpx logs every request URL at INFO and uvicorn's access log prints every
request path with its query string. Both can carry secrets here: the ``state``
of a hub-style claim link is the claim token, callbacks carry ``code``, and
app-style claim links put the token in the path (``/claims/<token>``).
:func:`install` adds :class:`RedactingFilter` to those loggers; importing
:mod:`zaikio_ops` calls it, so every entry point is covered.
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"
SECRET_PARAMETERS = ("zaikio_ops_claim_state", "state", "code", "code_verifier", "access_token",
                     "refresh_token", "client_secret", "token", "id_token")
# A filter on a logger does not see records of its child loggers, so httpcore's are listed one by one.
THIRD_PARTY_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
                       "httpcore.proxy", "httpcore.socks", "uvicorn.access", "uvicorn.error")

_QUERY_SECRET = re.compile(r"(?i)(?<![A-Za-z0-9])(" + "|".join(SECRET_PARAMETERS) + r")=([^&;,\s\"'#]+)")
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
# /claims/<token> carries the claim token; /claims/callback is a route, not a token.
_CLAIM_PATH = re.compile(r"/claims/(?!callback\b)([A-Za-z0-9_\-]{16,})")


def redact(text: str) -> str:
    """Return ``text`` with secret query values and claim-path tokens replaced by ``***``."""
    text = _QUERY_SECRET.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
    text = _AUTHORIZATION.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    return _CLAIM_PATH.sub(f"/claims/{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message and each argument in place.

    Arguments stay arguments (with the same count), because some formatters,
    such as uvicorn's access log formatter, unpack ``record.args`` themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(argument) for argument in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_argument(value) for key, value in record.args.items()}
        return True


def _redact_argument(argument: object) -> object:
    if isinstance(argument, (int, float, bool)) or argument is None:
        return argument
    text = argument.decode("utf-8", "replace") if isinstance(argument, bytes) else str(argument)
    redacted = redact(text)
    return argument if redacted == text else redacted


def install(logger_names: tuple[str, ...] = THIRD_PARTY_LOGGERS) -> None:
    """Attach one :class:`RedactingFilter` to each named logger (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
