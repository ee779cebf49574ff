"""CSV exports: formula injection, identifiers as text, BOM, delimiter, permissions, atomic writes."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from zaikio_ops.config import ExportSettings
from zaikio_ops.errors import ExportError
from zaikio_ops.exports import write_csv


def read_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


@pytest.mark.parametrize("value", ["=1+1", "+49 30 123", "-2", "@SUM(A1)", "\tcmd", "\rcmd",
                                   "=HYPERLINK(\"http://127.0.0.1\")"])
def test_formula_cell_prefixed(tmp_path: Path, value: str) -> None:
    path = write_csv(pd.DataFrame({"name": [value]}), tmp_path / "out.csv")
    assert read_rows(path)[1] == ["'" + value]


@pytest.mark.parametrize("value", ["Müller", "a=b", "x-1", "mail@example.com", "'quoted"])
def test_plain_cell_unchanged(tmp_path: Path, value: str) -> None:
    path = write_csv(pd.DataFrame({"name": [value]}), tmp_path / "out.csv")
    assert read_rows(path)[1] == [value]


def test_numbers_stay_numbers(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"members": [-3, 12], "completion": [0.25, -0.5]}), tmp_path / "out.csv")
    assert read_rows(path)[1:] == [["-3", "0.25"], ["12", "-0.5"]]


def test_identifier_leading_zeros(tmp_path: Path) -> None:
    frame = pd.DataFrame({"person_id": ["007", "0420"], "customer_number": ["0815", "0001"]})
    path = write_csv(frame, tmp_path / "out.csv", text_columns=["customer_number"])
    assert read_rows(path)[1:] == [["007", "0815"], ["0420", "0001"]]


def test_identifier_column_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"organization_id": pd.Series(["-5", None], dtype="string")})
    path = write_csv(frame, tmp_path / "out.csv")
    assert read_rows(path)[1:] == [["'-5"], [""]]


def test_bom_on_request(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv", bom=True)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"


def test_bom_off_by_default(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv")
    assert path.read_bytes()[:3] == b"a\r\n"


def test_bom_from_settings(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv",
                     settings=ExportSettings(delimiter=";", bom=True))
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"


def test_semicolon_delimiter(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["Müller; Sohn", "Weber"], "members": [3, 4]})
    path = write_csv(frame, tmp_path / "out.csv", delimiter=";")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "name;members"
    assert read_rows(path, ";")[1:] == [["Müller; Sohn", "3"], ["Weber", "4"]]


def test_invalid_delimiter_rejected(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="Invalid CSV delimiter '\\|'"):
        write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv", delimiter="|")


def test_private_mode_0600(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv", private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_public_mode_follows_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "out.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    write_csv(pd.DataFrame({"name": ["complete"]}), target)

    def write_half_then_fail(self, handle, **kwargs):
        handle.write("name\r\nhalf")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", write_half_then_fail)
    with pytest.raises(ExportError, match="No space left on device"):
        write_csv(pd.DataFrame({"name": ["new"]}), target)
    monkeypatch.undo()

    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]
    assert read_rows(target)[1] == ["complete"]


def test_failed_first_write_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self, handle, **kwargs):
        handle.write("name\r\n")
        raise ValueError("cannot format a value")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(ValueError, match="cannot format a value"):
        write_csv(pd.DataFrame({"name": ["new"]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ExportError, match="Could not write"):
        write_csv(pd.DataFrame({"a": ["x"]}), blocker / "out.csv")


def test_umlauts_round_trip(tmp_path: Path) -> None:
    names = ["Jürgen Müller", "Łukasz Żółć", "José Núñez", "Ærøskøbing ß"]
    path = write_csv(pd.DataFrame({"name": names}), tmp_path / "out.csv")
    assert [row[0] for row in read_rows(path)[1:]] == names


def test_umlauts_utf8_bytes(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"name": ["Müller"]}), tmp_path / "out.csv")
    assert "Müller".encode("utf-8") in path.read_bytes()


def test_missing_folder_created(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": ["x"]}), tmp_path / "deep" / "er" / "out.csv")
    assert path.is_file()
