"""Measure the audit's run time and peak memory on a generated app database.

Usage::

    python benchmarks/bench_audit.py --persons 10000 100000 [--database postgresql|mysql]

For each size one subprocess builds the demo database (copied into PostgreSQL or
MariaDB when ``--database`` names one) and a second, fresh subprocess runs the
audit, so the peak resident set size (``ru_maxrss``) belongs to the audit alone.
Copies on a server are dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--organizations-per-person", type=float, default=0.05)
    parser.add_argument("--database", choices=["sqlite", *SERVERS], default="sqlite")
    parser.add_argument("--chunksize", type=int, default=50_000)
    parser.add_argument("--audit-config", help=argparse.SUPPRESS)
    parser.add_argument("--audit-url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.audit_config:
        print(json.dumps(_audit(args.audit_config, args.audit_url, args.chunksize)))
        return

    print(f"{'persons':>9} {'orgs':>7} {'database':>10} {'build s':>8} {'audit s':>8} {'audit peak MiB':>15}")
    for persons in args.persons:
        organizations = max(5, int(persons * args.organizations_per_person))
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            config_path, url, name = _build(Path(folder), persons, organizations, args.database)
            build_seconds = time.perf_counter() - started
            try:
                output = subprocess.run(
                    [sys.executable, __file__, "--audit-config", str(config_path), "--audit-url", url,
                     "--chunksize", str(args.chunksize)],
                    check=True, capture_output=True, text=True,
                ).stdout
            finally:
                if name:
                    _drop(SERVERS[args.database], name)
        row = json.loads(output.strip().splitlines()[-1])
        print(f"{persons:>9} {organizations:>7} {args.database:>10} {build_seconds:>8.1f} "
              f"{row['audit_seconds']:>8.2f} {row['peak_mib']:>15.0f}")


def _build(folder: Path, persons: int, organizations: int, database: str) -> tuple[Path, str, str | None]:
    from zaikio_ops.demo import build_demo_database, write_demo_config

    path = folder / "bench.db"
    build_demo_database(path, persons=persons, organizations=organizations)
    config_path = write_demo_config(folder, path)
    if database == "sqlite":
        return config_path, f"sqlite:///{path}", None
    url, name = _copy_to_server(path, SERVERS[database])
    return config_path, url, name


def _audit(config_path: str, url: str, chunksize: int) -> dict:
    from zaikio_ops.audit import run_audit
    from zaikio_ops.config import load_config

    config = load_config(config_path, environ={"ZAIKIO_OPS_DATABASE_URL": url})
    started = time.perf_counter()
    result = run_audit(config, chunksize=chunksize)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"audit_seconds": seconds, "peak_mib": peak, "unmapped": result.summary["persons_unmapped"]}


def _copy_to_server(sqlite_path: Path, server_url: str) -> tuple[str, str]:
    """Copy the demo tables into a fresh database on the server; return its URL and name."""
    import pandas as pd
    import sqlalchemy as sa

    name = f"zo_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()

    target_url = server_url.rsplit("/", 1)[0] + f"/{name}"
    source, target = sa.create_engine(f"sqlite:///{sqlite_path}"), sa.create_engine(target_url)
    for table in ("users", "companies", "company_users"):
        frame = pd.read_sql_table(table, source)
        frame.to_sql(table, target, index=False, chunksize=2_000, method="multi")
    target.dispose()
    return target_url, name


def _drop(server_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    force = " WITH (FORCE)" if server_url.startswith("postgresql") else ""
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{force}"))
    admin.dispose()


if __name__ == "__main__":
    main()
