"""Run the stand-in Hub with uvicorn in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn

from zaikio_ops.errors import ZaikioOpsError
from zaikio_ops.standin.app import create_app
from zaikio_ops.standin.state import HubState

__all__ = ["StandinStartError", "running_standin"]

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 10.0


class StandinStartError(ZaikioOpsError):
    """The stand-in server did not start (port in use, bind refused)."""


@contextmanager
def running_standin(state: HubState, host: str = "127.0.0.1", port: int = 0,
                    log_level: str = "warning") -> Iterator[str]:
    """Serve ``state`` on ``host:port`` while the ``with`` block runs and yield the base URL.

    Parameters
    ----------
    state : HubState
        The stand-in's state; tests may change it while the server runs.
    host : str
        Interface to bind; keep the loopback default unless a browser on
        another machine must reach it.
    port : int
        TCP port; 0 picks a free one, which the yielded URL names.
    log_level : str
        uvicorn's log level.

    Yields
    ------
    str
        ``http://<host>:<port>`` without trailing slash.

    Raises
    ------
    StandinStartError
        The server did not report startup within 10 seconds.
    """
    config = uvicorn.Config(create_app(state), host=host, port=port, log_level=log_level, lifespan="off",
                            access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="zaikio-standin", daemon=True)
    thread.start()

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise StandinStartError(f"The stand-in Hub did not start on {host}:{port}; check that the port is free.")
        time.sleep(0.01)

    bound_port = server.servers[0].sockets[0].getsockname()[1]
    base_url = f"http://{host}:{bound_port}"
    logger.info("Stand-in Hub listening on %s", base_url)

    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        logger.info("Stand-in Hub on %s stopped", base_url)
