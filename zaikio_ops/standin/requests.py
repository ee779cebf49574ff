"""Request parsing shared by the stand-in's routes: bodies, Basic auth, bracket keys."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["read_params", "basic_credentials", "nest_bracket_keys"]


async def read_params(request: Request) -> dict[str, str]:
    """Return the body parameters of a form-urlencoded or JSON request as strings.

    JSON values that are not strings are converted with ``str``; a body that
    is neither form nor JSON object yields an empty dict.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()

    if content_type == "application/json":
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return {}
        return {str(k): str(v) for k, v in data.items() if v is not None} if isinstance(data, dict) else {}

    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """Return ``(client_id, client_secret)`` from an ``Authorization: Basic`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None

    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None

    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def nest_bracket_keys(params: dict[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``person[email]=x`` and ``organization[kinds][]=a`` keys into nested dicts and lists."""
    items = params.items() if isinstance(params, dict) else params
    nested: dict[str, Any] = {}

    for key, value in items:
        head, _, rest = key.partition("[")
        if not rest:
            nested[key] = value
            continue

        parts = [head] + rest.rstrip("]").split("][")
        _assign(nested, parts, value)

    return nested


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        default: Any = [] if following == "" else {}
        existing = target.get(part)
        if not isinstance(existing, (dict, list)):
            target[part] = default
        if isinstance(target[part], list):
            target[part].append(value)
            return
        target = target[part]

    last = parts[-1]
    if last:
        target[last] = value
