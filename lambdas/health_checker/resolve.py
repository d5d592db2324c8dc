"""Resolve DNS names from inside the VPC: how post-deploy checks see the private failover records.

The private zone is associated only with the stack's VPCs, so `writer.<zone>` can be resolved only
from there; the health checker is the VPC-attached function every region has. A manual
`{"resolve": [name, ...]}` event answers with each name's CNAME chain and addresses. It only
resolves: nothing is connected to, nothing is published.

Names are restricted to records directly under the stack's own zone, `<label>.<suffix>.<parent>`
(the zone is `<environmentSuffix>.<dnsZoneName>`), so the function cannot be used to map arbitrary
names from inside the VPC; the list is short and every lookup runs against one deadline, because
`gethostbyname_ex` has no timeout of its own.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

MAX_NAMES = 4
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

Clock = Callable[[], float]


class ResolveRequestError(ValueError):
    """The `resolve` list is malformed or names something outside the stack's zone."""


def requested_names(value: Any, environment: str) -> tuple[str, ...]:
    """Validate the event's `resolve` list; returns the names lowercased, without a final dot."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_NAMES:
        raise ResolveRequestError(
            f"'resolve' must be a list of 1 to {MAX_NAMES} DNS names, got {_describe(value)}"
        )
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ResolveRequestError(f"'resolve' entries must be strings, got {_describe(item)}")
        name = item.strip().lower().removesuffix(".")
        labels = name.split(".")
        if (
            len(name) > 253
            or len(labels) < 3
            or not all(_LABEL.match(label) for label in labels)
            or _is_ip_address(name)
        ):
            raise ResolveRequestError(f"{item!r} is not a DNS name")
        if labels[1] != environment:
            raise ResolveRequestError(
                f"{item!r} is not a record of this stack's private zone "
                f"(<label>.{environment}.<dnsZoneName>)"
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def resolve_names(
    names: Sequence[str],
    *,
    timeout_seconds: float,
    clock: Clock = time.monotonic,
) -> dict[str, dict[str, Any]]:
    """Each name's `{"chain": [name, CNAME target, ...], "addresses": [...]}` or `{"error": ...}`.

    `chain` is every name the resolver went through (the asked name, then the CNAME targets) and
    ends with the canonical name. A lookup still running at the deadline is reported as timed out.
    """
    deadline = clock() + timeout_seconds
    pool = ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="resolve")
    try:
        futures = {name: pool.submit(_lookup, name) for name in names}
        results: dict[str, dict[str, Any]] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - clock()))
            except FutureTimeout:
                results[name] = {"error": f"timed out after {timeout_seconds:g} s"}
            except OSError as exc:  # socket.gaierror / socket.herror: NXDOMAIN, SERVFAIL, ...
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return results
    finally:
        # A hung lookup ends on the resolver's own timeout, in the background.
        pool.shutdown(wait=False, cancel_futures=True)


def _lookup(name: str) -> dict[str, Any]:
    # Looked up at call time so tests can replace socket.gethostbyname_ex.
    canonical, aliases, addresses = socket.gethostbyname_ex(name)
    chain = [name]
    for alias in [*aliases, canonical]:
        alias = alias.lower().removesuffix(".")
        if alias not in chain:
            chain.append(alias)
    return {"chain": chain, "addresses": sorted(addresses)}


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
