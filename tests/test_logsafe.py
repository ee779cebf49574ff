"""Secrets in third-party log lines are redacted."""

from __future__ import annotations

import logging

import httpx

import zaikio_ops  # noqa: F401  (installs the filters)
from zaikio_ops.logsafe import redact

TOKEN = "Zq3vTk8m1Xc0pLrS7uWy2Nd5Hf9Ja4Be6Gi_Ko-QxYz"


def test_redact_query_values():
    line = f"GET /oauth/authorize?client_id=app&state={TOKEN}&code=abc123&scope=zaikio.person.r"
    redacted = redact(line)
    assert TOKEN not in redacted
    assert "abc123" not in redacted
    assert "client_id=app" in redacted
    assert "scope=zaikio.person.r" in redacted


def test_redact_claim_path_keeps_callback():
    assert redact(f"GET /claims/{TOKEN} HTTP/1.1") == "GET /claims/*** HTTP/1.1"
    assert redact("GET /claims/callback?x=1") == "GET /claims/callback?x=1"


def test_httpx_request_log_is_redacted(caplog):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    with caplog.at_level(logging.DEBUG):
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            client.get(f"http://127.0.0.1/claims/callback?state={TOKEN}&code=secretcode")

    assert caplog.records, "httpx logged nothing; the check would pass vacuously"
    assert TOKEN not in caplog.text
    assert "secretcode" not in caplog.text


def test_uvicorn_access_log_is_redacted(caplog):
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/claims/{TOKEN}", "1.1", 200)
    assert TOKEN not in caplog.text
    assert "/claims/***" in caplog.text


def test_redact_cookie_and_authorization():
    header = f"(b'set-cookie', b'zaikio_ops_claim_state={TOKEN}; Path=/claims; HttpOnly')"
    assert TOKEN not in redact(header)
    assert TOKEN not in redact(f"Authorization: Bearer {TOKEN}")


def test_httpcore_child_logger_is_redacted(caplog):
    child = logging.getLogger("httpcore.http11")
    with caplog.at_level(logging.DEBUG, logger="httpcore.http11"):
        child.debug("receive_response_headers.complete return_value=%r",
                    [(b"location", f"http://127.0.0.1/cb?state={TOKEN}".encode())])
    assert caplog.records
    assert TOKEN not in caplog.text


def test_uvicorn_access_formatter_keeps_working():
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "POST", f"/claims/{TOKEN}", "1.1", 303), None)
    for log_filter in logging.getLogger("uvicorn.access").filters:
        log_filter.filter(record)

    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)

    assert TOKEN not in line
    assert "/claims/***" in line
    assert "303" in line
