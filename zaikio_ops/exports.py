"""CSV exports for support teams, safe to open in Excel and LibreOffice.

Every text cell that a spreadsheet would read as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe,
the OWASP recommendation against CSV injection. Numbers that are data stay
numbers; identifier columns are written as text so leading zeros survive.
German Excel opens semicolon-separated files with a UTF-8 byte order mark
directly, so both are options.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from zaikio_ops.config import ExportSettings
from zaikio_ops.errors import ExportError

logger = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralize_cell(value: object) -> object:
    """Return ``value`` with a leading apostrophe if a spreadsheet would evaluate it.

    Non-string values are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Return a copy of ``frame`` ready for CSV: formula-safe text, identifiers as text.

    Parameters
    ----------
    frame : DataFrame
        The table to export.
    text_columns : iterable of str
        Columns written as text even when they look numeric (identifiers).
        Columns whose name ends in ``_id`` are always text.
    """
    out = frame.copy()
    forced = set(text_columns) | {name for name in out.columns if str(name).endswith("_id")}
    for name in out.columns:
        column = out[name]
        if name in forced or column.dtype == object or pd.api.types.is_string_dtype(column):
            out[name] = column.map(lambda v: neutralize_cell(str(v)) if _present(v) else "")
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *,
              settings: ExportSettings | None = None, delimiter: str | None = None,
              bom: bool | None = None, private: bool = False,
              text_columns: Iterable[str] = ()) -> Path:
    """Write ``frame`` as a formula-safe CSV file, atomically.

    The file appears complete or not at all: it is written to a temporary file in
    the same folder and renamed.

    Parameters
    ----------
    frame : DataFrame
        The table to export.
    path : path-like
        Target file; its folder is created when missing.
    settings : ExportSettings, optional
        Delimiter and BOM from the configuration; ``delimiter`` and ``bom`` override them.
    delimiter : {",", ";"}, optional
    bom : bool, optional
        Start the file with a UTF-8 byte order mark (for Excel).
    private : bool
        Create the file with mode 0600 (for exports that contain claim links).
    text_columns : iterable of str
        Columns to keep as text, in addition to every ``*_id`` column.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ExportError
        When the delimiter is invalid or the file cannot be written.
    """
    settings = settings or ExportSettings()
    delimiter = settings.delimiter if delimiter is None else delimiter
    bom = settings.bom if bom is None else bom
    if delimiter not in (",", ";"):
        raise ExportError(f"Invalid CSV delimiter {delimiter!r}; use ',' or ';'.")

    path = Path(path)
    data = safe_frame(frame, text_columns)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.chmod(temporary, 0o600 if private else 0o644 & ~_umask())
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            if bom:
                handle.write(BOM)
            data.to_csv(handle, sep=delimiter, index=False, quoting=csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
        os.replace(temporary, path)
    except BaseException as exc:
        # Remove the partly written temporary file. The target keeps its previous content.
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ExportError(
                f"Could not write {path}: {exc.strerror}. Check the folder and its permissions."
            ) from None
        raise

    logger.info("Wrote %d rows to %s", len(frame), path)
    return path


def _present(value: object) -> bool:
    if value is None or value is pd.NA:
        return False
    try:
        return not pd.isna(value)
    except (TypeError, ValueError):
        return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
