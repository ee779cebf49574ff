"""Measure claim link generation and redemption on a generated app database (SQLite).

Usage::

    python benchmarks/bench_claims.py --persons 20000 --redeem 1000

Generation issues a link for every unmapped, mailable, active person in batches
of 500. Redemption runs the library's ``redeem`` for hub-style links one after
another; the code exchange goes to an in-process ``httpx.MockTransport``, so the
figure is the kit's own cost (token checks, one transaction, the event) without
network time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--redeem", type=int, default=1_000)
    args = parser.parse_args()

    from zaikio_ops import schema
    from zaikio_ops.claims import generate_person_claims, redeem
    from zaikio_ops.config import load_config
    from zaikio_ops.demo import build_demo_database, write_demo_config
    from zaikio_ops.demo_flow import clear_shared_zaikio_ids
    from zaikio_ops.hub import HubClient
    from zaikio_ops.source import Source

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        build_demo_database(database, persons=args.persons, organizations=max(5, args.persons // 20))
        config = load_config(write_demo_config(folder, database), environ={"ZAIKIO_CLIENT_SECRET": "bench"})
        config = replace(config, claims=replace(config.claims, link_style="hub"))
        source = Source(config)
        clear_shared_zaikio_ids(source.engine, config)
        schema.apply(source.engine, config)

        started = time.perf_counter()
        links = generate_person_claims(config, source=source)
        generate_seconds = time.perf_counter() - started

        hub = HubClient(config.hub.url, config.hub.client_id, config.hub.client_secret,
                        transport=httpx.MockTransport(_token_endpoint))
        states = [parse_qs(urlsplit(link.reveal()).query)["state"][0]
                  for link in links.rows["link"].head(args.redeem)]
        started = time.perf_counter()
        for state in states:
            redeem(config, source, hub, state=state, code=f"code-{uuid.uuid4()}")
        redeem_seconds = time.perf_counter() - started

    print(json.dumps({
        "persons": args.persons, "links": len(links), "generate_seconds": round(generate_seconds, 2),
        "links_per_second": round(len(links) / generate_seconds),
        "redeemed": len(states), "redeem_seconds": round(redeem_seconds, 2),
        "redemptions_per_second": round(len(states) / redeem_seconds),
    }, indent=2))


def _token_endpoint(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={
        "access_token": "bench.jwt.value", "refresh_token": "r", "token_type": "bearer",
        "scope": "zaikio.person.r", "audiences": ["bench"], "expires_in": 3600,
        "bearer": {"id": str(uuid.uuid4()), "type": "Person"},
    })


if __name__ == "__main__":
    main()
