"""Notebook runs with papermill: an executed notebook, an HTML report and CSV files per run.

Every run gets its own folder, ``<output_root>/<job>/<UTC timestamp>/``, holding
the executed notebook, an HTML report without code cells (charts embedded as
PNG data URIs) and the CSV files the notebook exported. A failed run still
keeps the partially executed notebook and its report in that folder.

Where notebooks come from: the canonical copies live in ``notebooks/`` at the
top of the repository. The package ships identical copies in
``zaikio_ops/notebooks/`` (a test keeps them in sync) for installs without the
repository. :func:`find_notebook` prefers the repository copy, so an edited
notebook runs without copying it first.

Secrets never travel as papermill parameters: they would be stored in the
executed notebook. The notebook reads them from the environment through
:func:`zaikio_ops.config.load_config`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillException, PapermillExecutionError

from zaikio_ops.errors import ConfigError, RunError

logger = logging.getLogger(__name__)

# Job name of each notebook, which names the run's folder under the output root.
JOBS = {"01_audit_unmapped": "audit", "02_claim_links": "claims", "03_reconcile_memberships": "reconcile"}
REPORT_TITLES = {"01_audit_unmapped": "Audit of unmapped accounts", "02_claim_links": "Claim links",
                 "03_reconcile_memberships": "Membership reconciliation"}
# Parameters a papermill run sets for a notebook unless the caller sets them; widgets cannot be clicked there.
RUN_PARAMETERS = {"02_claim_links": {"interactive": False}}
DEFAULT_KERNEL = "python3"

# A parameter whose name contains one of these is rejected, because the executed notebook would store its value.
SECRET_WORDS = ("secret", "token", "password", "key")

REPOSITORY_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PACKAGE_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2]}


@dataclass(frozen=True)
class RunResult:
    """The files of one notebook run."""

    out_dir: Path
    notebook_path: Path
    html_path: Path
    csv_paths: list[Path]


def find_notebook(name: str) -> Path:
    """Return the path of notebook ``name`` (without ``.ipynb``), repository copy first.

    Raises
    ------
    RunError
        When neither ``notebooks/`` nor the package has that notebook.
    """
    for folder in (REPOSITORY_NOTEBOOKS, PACKAGE_NOTEBOOKS):
        candidate = folder / f"{name}.ipynb"
        if candidate.is_file():
            return candidate
    available = sorted({path.stem for folder in (REPOSITORY_NOTEBOOKS, PACKAGE_NOTEBOOKS)
                        for path in folder.glob("*.ipynb")})
    raise RunError(f"Notebook {name!r} not found in {REPOSITORY_NOTEBOOKS} or {PACKAGE_NOTEBOOKS}. "
                   f"Available: {', '.join(available) or '(none)'}.")


def run_notebook(name: str, *, config_path: str | os.PathLike[str] | None,
                 output_root: str | os.PathLike[str] = "out",
                 parameters: Mapping[str, Any] | None = None,
                 kernel_name: str | None = None, progress: bool = True) -> RunResult:
    """Execute a notebook with papermill into a new run folder and write its HTML report.

    Parameters
    ----------
    name : str
        Notebook name without ``.ipynb``, e.g. ``"01_audit_unmapped"``.
    config_path : path-like or None
        Configuration file passed to the notebook; ``None`` lets the notebook use
        ``$ZAIKIO_OPS_CONFIG`` or ``zaikio_ops.toml``. A relative path is resolved
        against the current directory, which is also the kernel's directory.
    output_root : path-like
        The run folder is ``<output_root>/<job>/<UTC timestamp>/``.
    parameters : mapping, optional
        Further notebook parameters. ``output_dir`` defaults to the run folder.
    kernel_name : str, optional
        Jupyter kernel; defaults to ``python3``, which jupyter_client starts with
        the current interpreter when its kernelspec runs plain ``python``.
    progress : bool
        Show papermill's progress bar over the cells.

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        When a parameter name looks like a secret.
    RunError
        When the notebook is missing, the kernel cannot start or a cell fails. The
        message names the failing cell and the partially executed notebook.
    """
    check_parameters(parameters or {})
    source = find_notebook(name)
    parameters = check_known_parameters(source, parameters or {})
    kernel = kernel_name or DEFAULT_KERNEL
    check_kernel(kernel)

    out_dir = _new_run_folder(Path(output_root) / JOBS.get(name, name))
    notebook_path = out_dir / f"{name}.ipynb"
    html_path = out_dir / f"{name}.html"
    values = {
        "config_path": str(Path(config_path).resolve()) if config_path else "",
        "output_dir": str(out_dir),
        **RUN_PARAMETERS.get(name, {}),
        **(parameters or {}),
    }
    logger.info("Running notebook %s into %s", source, out_dir)

    try:
        papermill.execute_notebook(str(source), str(notebook_path), parameters=values,
                                   kernel_name=kernel, progress_bar=progress, cwd=os.getcwd())
    except PapermillExecutionError as exc:
        _write_partial_report(notebook_path, html_path, name)
        raise RunError(
            f"Notebook {name} failed in cell [{exc.exec_count}]: {exc.ename}: {exc.evalue}. "
            f"The partially executed notebook is {notebook_path}; open it to see the traceback."
        ) from None
    except (PapermillException, NoSuchKernel, RuntimeError) as exc:
        _write_partial_report(notebook_path, html_path, name)
        raise RunError(f"Notebook {name} could not be run with kernel {kernel!r}: {exc}.") from None

    write_html_report(notebook_path, html_path, title=REPORT_TITLES.get(name, name))
    csv_paths = sorted(out_dir.glob("*.csv"))
    logger.info("Notebook %s done: %s and %d CSV files", name, html_path, len(csv_paths))
    return RunResult(out_dir=out_dir, notebook_path=notebook_path, html_path=html_path,
                     csv_paths=csv_paths)


def check_parameters(parameters: Mapping[str, Any]) -> None:
    """Reject parameters whose names suggest a secret.

    Raises
    ------
    ConfigError
        Naming the parameter (never its value) and where the secret belongs instead.
    """
    for key in parameters:
        lowered = str(key).lower()
        if any(word in lowered for word in SECRET_WORDS):
            raise ConfigError(
                f"Notebook parameter {key!r} looks like a secret. Secrets are not passed as "
                f"parameters because the executed notebook stores them. Set it in the environment "
                f"(e.g. ZAIKIO_CLIENT_SECRET, ZAIKIO_OPS_DATABASE_URL) instead."
            )


def check_known_parameters(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and types against the notebook's ``parameters`` cell; return converted values.

    Command lines pass text, so ``"false"``/``"False"`` become a bool and digits
    an int where the notebook declares ``bool`` or ``int``.

    Raises
    ------
    ConfigError
        For a name the notebook does not define or a value that does not fit its type.
    """
    known = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ConfigError(
            f"Notebook {notebook.name} has no parameter {', '.join(map(repr, unknown))}. "
            f"Its parameters: {', '.join(known)}."
        )
    return {name: _convert(name, value, known[name].get("inferred_type_name", ""))
            for name, value in parameters.items()}


def _convert(name: str, value: Any, declared: str) -> Any:
    if declared == "bool" and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"Notebook parameter {name!r} is a bool; got {value!r}. Use true or false.")
        return text in ("true", "1", "yes")
    if declared == "int" and not isinstance(value, int):
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"Notebook parameter {name!r} is a whole number; got {value!r}.") from None
    if declared == "str" and not isinstance(value, str):
        return str(value)
    return value


def check_kernel(kernel_name: str) -> None:
    """Check that ``kernel_name`` exists and warn when it runs another interpreter.

    Raises
    ------
    RunError
        When no kernelspec of that name is installed.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise RunError(
            f"Jupyter kernel {kernel_name!r} not found. Install one for this interpreter with "
            f"'{sys.executable} -m ipykernel install --sys-prefix'."
        ) from None

    program = spec.argv[0] if spec.argv else ""
    if program in _PYTHON_NAMES:
        return
    if Path(program).resolve() != Path(sys.executable).resolve():
        logger.warning("Kernel %r runs %s, not this interpreter %s, so the notebook may not find "
                       "zaikio_ops. Run '%s -m ipykernel install --sys-prefix' to fix it.",
                       kernel_name, program, sys.executable, sys.executable)


def write_html_report(notebook_path: Path, html_path: Path, title: str) -> Path:
    """Convert an executed notebook to HTML without code, prompts or stderr output.

    Charts stay in the page as ``data:image/png`` images, so the file can be
    mailed on its own.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.get("outputs", [])
                            if not (output.get("output_type") == "stream" and output.get("name") == "stderr")]

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _write_partial_report(notebook_path: Path, html_path: Path, name: str) -> None:
    if not notebook_path.is_file():
        return
    try:
        write_html_report(notebook_path, html_path, title=f"{REPORT_TITLES.get(name, name)} (failed)")
    except Exception:  # noqa: BLE001 - the run already failed; keep its error, not this one.
        logger.exception("Could not write the report of the failed run %s", notebook_path)


def _new_run_folder(job_dir: Path) -> Path:
    """Create ``job_dir/<UTC timestamp>``, with a suffix when that second is taken."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        folder = job_dir / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            job_dir.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            if not job_dir.is_dir():
                raise RunError(f"Could not create the run folder {folder}: a file is in the way. "
                               f"Choose another --output-root or [output] dir.") from None
            continue
        except OSError as exc:
            raise RunError(f"Could not create the run folder {folder}: {exc.strerror}. Choose a "
                           f"writable --output-root or [output] dir.") from None
        return folder.resolve()
    raise RunError(f"Could not create a run folder in {job_dir}: 99 runs in the same second.")
