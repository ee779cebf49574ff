"""Serving the claim service in a background thread, for the demo and the tests.

:func:`bind_loopback` binds a free port first, so the caller knows the
callback URL before it builds the configuration the service needs, and
:func:`running_claim_service` serves the app on that socket with uvicorn.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from zaikio_ops.errors import ZaikioOpsError

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 10.0


class ClaimServiceStartError(ZaikioOpsError):
    """The claim service did not start within the startup timeout."""


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """Bind a TCP socket to a free port on ``host`` and return it, not yet listening.

    Binding first gives the caller the port, and so the callback URL, before the
    service that needs that URL in its configuration is built.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def socket_url(sock: socket.socket) -> str:
    """Return ``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextlib.contextmanager
def running_claim_service(app: Starlette, sock: socket.socket, *,
                          log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` on the bound socket ``sock`` in a background thread.

    uvicorn runs the app's lifespan, so the service opens its database and Hub
    client before the first request. uvicorn's own logging setup is skipped
    (``log_config=None``), so its records reach the caller's handlers and the
    redacting filters of :mod:`zaikio_ops.logsafe`.

    Yields
    ------
    str
        The base URL, ``http://host:port``.

    Raises
    ------
    ClaimServiceStartError
        When the server does not report startup within 10 seconds.
    """
    base_url = socket_url(sock)
    config = uvicorn.Config(app, lifespan="on", log_config=None, log_level=log_level,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="zaikio-claim-service", daemon=True)
    thread.start()

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ClaimServiceStartError(
                f"The claim service did not start on {base_url} within {STARTUP_TIMEOUT:.0f} s; "
                f"check the log above for the cause (database unreachable, kit tables missing).")
        time.sleep(0.01)
    logger.info("Claim service listening on %s", base_url)

    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        sock.close()
        logger.info("Claim service on %s stopped", base_url)
