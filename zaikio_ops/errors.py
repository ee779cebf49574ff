"""The exception hierarchy of zaikio-ops.

Every error the kit raises on purpose derives from :class:`ZaikioOpsError`, so a
caller can catch all of them in one clause and the command line can print them
without a traceback::

    ZaikioOpsError
     ├── ConfigError          a configuration file or variable is wrong
     ├── SourceError          the app's database does not match the mapping
     ├── DatabaseError        the database could not be reached or written
     ├── ExportError          a CSV export could not be written
     ├── RunError             a papermill notebook run failed
     └── HubError             talking to Zaikio failed (see ``zaikio_ops.hub.errors``)

Messages say what was wrong, on which value, and what to do next. They never
contain claim tokens, client secrets or access tokens.
"""

from __future__ import annotations


class ZaikioOpsError(Exception):
    """Base class of every error raised on purpose by zaikio-ops."""

    exit_code = 1


class ConfigError(ZaikioOpsError):
    """A configuration file, key or environment variable is missing or invalid."""

    exit_code = 2


class SourceError(ZaikioOpsError):
    """The app's database does not match the configured schema mapping."""

    exit_code = 2


class DatabaseError(ZaikioOpsError):
    """The app's database could not be reached, read or written."""


class ExportError(ZaikioOpsError):
    """A CSV export or report file could not be written."""


class RunError(ZaikioOpsError):
    """A notebook run failed; the message names the failing cell."""


class HubError(ZaikioOpsError):
    """A request to the Zaikio Hub failed.

    The subclasses in :mod:`zaikio_ops.hub.errors` name the cause.
    """
