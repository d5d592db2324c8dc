"""The checker's SQL work: one health probe of this region's and the peer's cluster, or one peer
probe. Nothing else: no RDS or CloudWatch API (the peer watch's health run, outside the VPC, reads
the roles and publishes the metrics), so the function needs only the `secretsmanager` endpoint.

Time is the design constraint: the Lambda has 30 s and any endpoint may hang. Every socket has a
short timeout, the probes run concurrently, and the whole probe phase is cut off at
`budget_seconds`: a probe still running then counts as failed, so the caller always gets an
answer in time.

`probe_peer` is the other kind of run: one probe of the peer's cluster endpoint for the peer
watch (every few seconds) or the coordinator. It reads the credentials from a short-lived cache,
because a secret read per probe would cost more than the probe (Secrets Manager bills per API
call).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from drcommon import db, health
from drcommon.db import DbCredentials, Endpoint
from drcommon.health import ProbeResult
from drcommon.observability import get_logger
from health_checker import SERVICE
from health_checker.probes import probe
from health_checker.settings import Settings

logger = get_logger(SERVICE)

Clock = Callable[[], float]
ConnectCredentials = Callable[[DbCredentials], Any]  # e.g. functools.partial(db.connect, ...)


class CredentialSource:
    """AWSCURRENT credentials, with a lazy AWSPENDING fallback for a rotation in flight.

    Between the rotation's setSecret and finishSecret the database already has the new password
    while AWSCURRENT still holds the old one; without the fallback a probe in that window would
    report the writer as down and could fail DNS over.
    """

    def __init__(self, secretsmanager: Any, secret_id: str, current: DbCredentials) -> None:
        self._secretsmanager = secretsmanager
        self._secret_id = secret_id
        self.current = current
        self._lock = threading.Lock()
        self._pending: DbCredentials | None = None
        self._pending_read = False

    def pending(self) -> DbCredentials | None:
        """AWSPENDING credentials when they exist and differ from AWSCURRENT, else None."""
        with self._lock:
            if not self._pending_read:
                self._pending_read = True
                try:
                    pending = db.read_credentials(
                        self._secretsmanager, self._secret_id, version_stage=db.AWSPENDING
                    )
                except (ClientError, db.CredentialsError):
                    pending = None
                if pending is not None and pending.password != self.current.password:
                    self._pending = pending
            return self._pending


def make_connector(
    source: CredentialSource, connect: ConnectCredentials
) -> Callable[[Endpoint], Any]:
    """A probe connection factory: AWSCURRENT, retried once with AWSPENDING on a bad password."""

    def connect_endpoint(endpoint: Endpoint) -> Any:
        """A connection to `endpoint` with the best credentials available."""
        try:
            return connect(source.current.at(endpoint))
        except Exception as exc:
            if not db.is_auth_failure(exc):
                raise
            pending = source.pending()
            if pending is None:
                raise
            logger.info("login failed with AWSCURRENT, retrying with AWSPENDING")
            return connect(pending.at(endpoint))

    return connect_endpoint


@dataclass
class _ProbePhase:
    """The concurrent part of one run: a pool, its deadline and the errors seen so far."""

    pool: ThreadPoolExecutor
    deadline: float
    clock: Clock
    errors: dict[str, str] = field(default_factory=dict)

    def wait(self, future: Future[Any]) -> tuple[Any, str | None]:
        """(result, None) or (None, error text); still running at the deadline is an error."""
        try:
            return future.result(timeout=max(0.0, self.deadline - self.clock())), None
        except FutureTimeout:
            return None, "timed out (run budget exhausted)"
        except Exception as exc:
            return None, db.describe_error(exc)


def probe_health(
    settings: Settings,
    *,
    secretsmanager: Any,
    connect: ConnectCredentials,
    budget_seconds: float,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Read the secret, probe this region's cluster and reader and the peer's cluster
    concurrently; the answer is `health.as_answer` (every probe result, the errors seen).

    Never raises: a failure is a probe result. The peer is always probed: whether its answer
    counts depends on which region holds the writer role, which the caller reads (RDS API)
    while this runs.
    """
    started = clock()
    # One worker per task (the secret read + 3 probes): a hung task never delays another.
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-probe")
    phase = _ProbePhase(pool, deadline=started + budget_seconds, clock=clock)
    try:
        credentials, error = phase.wait(
            pool.submit(db.read_credentials, secretsmanager, settings.secret_id)
        )
        if error:
            phase.errors["credentials"] = error
        probes = _probe_endpoints(phase, settings, secretsmanager, connect, credentials)
    finally:
        # Never wait for a hung probe: its socket timeout ends it later, in the background.
        pool.shutdown(wait=False, cancel_futures=True)
    answer = health.as_answer(probes, phase.errors)
    logger.info(
        "health probed",
        extra={**answer, "elapsedMs": round((clock() - started) * 1000.0, 1)},
    )
    return answer


def _probe_endpoints(
    phase: _ProbePhase,
    settings: Settings,
    secretsmanager: Any,
    connect: ConnectCredentials,
    credentials: DbCredentials | None,
) -> dict[str, ProbeResult]:
    """This region's cluster and reader and the peer's cluster, probed concurrently; nothing
    without credentials."""
    if credentials is None:
        return {}
    connector = make_connector(
        CredentialSource(secretsmanager, settings.secret_id, credentials), connect
    )
    endpoints = {
        "cluster": settings.cluster_endpoint,
        "reader": settings.reader_endpoint,
        "peer": settings.peer_cluster_endpoint,
    }
    futures = {
        "cluster": phase.pool.submit(
            probe,
            connector,
            settings.cluster_endpoint,
            heartbeat_region=settings.local_region,
            read_lag=True,
        ),
        "reader": phase.pool.submit(
            probe, connector, settings.reader_endpoint, read_lag=True, check_writer=False
        ),
        "peer": phase.pool.submit(probe, connector, settings.peer_cluster_endpoint),
    }
    results: dict[str, ProbeResult] = {}
    for name, future in futures.items():
        result, error = phase.wait(future)
        outcome = result or ProbeResult.failed(endpoints[name], error or "no result")
        if outcome.error:
            phase.errors[name] = outcome.error
        results[name] = outcome
    return results


# --- the peer probe --------------------------------------------------------------------------


class CredentialCache:
    """AWSCURRENT credentials kept for `max_age_seconds` between warm invocations.

    A login that fails on the password empties the cache, so the next probe reads the secret
    again (a rotation has moved on); the probe itself still tries AWSPENDING (`make_connector`).
    """

    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self._lock = threading.Lock()
        self._value: DbCredentials | None = None
        self._read_at = 0.0

    def get(self, secretsmanager: Any, secret_id: str, now: float) -> DbCredentials:
        """The cached credentials, read anew when missing or older than the maximum age."""
        with self._lock:
            if self._value is None or now - self._read_at > self.max_age_seconds:
                self._value = db.read_credentials(secretsmanager, secret_id)
                self._read_at = now
            return self._value

    def invalidate(self) -> None:
        """Forget the credentials (a login failed on them)."""
        with self._lock:
            self._value = None


def probe_peer(
    settings: Settings,
    *,
    secretsmanager: Any,
    connect: ConnectCredentials,
    credentials: CredentialCache,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Probe the peer's cluster endpoint once, within the probe timeout; the answer has exactly
    `contract.PEER_PROBE_RESULT_KEYS`. Never raises: a failure is an answer (`ok` false)."""
    endpoint = settings.peer_cluster_endpoint
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peer-probe")
    phase = _ProbePhase(pool, deadline=clock() + settings.probe_timeout_seconds, clock=clock)
    try:
        current, error = phase.wait(
            pool.submit(credentials.get, secretsmanager, settings.secret_id, clock())
        )
        if current is None:
            result = ProbeResult.failed(endpoint, f"credentials: {error}")
        else:
            connector = make_connector(
                CredentialSource(secretsmanager, settings.secret_id, current),
                _forgetting_on_bad_password(connect, credentials),
            )
            found, error = phase.wait(pool.submit(probe, connector, endpoint))
            result = found or ProbeResult.failed(endpoint, error or "no result")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    answer = {
        "endpoint": result.endpoint,
        "ok": result.ok,
        "isWriter": result.is_writer,
        "latencyMs": None if result.latency_ms is None else round(result.latency_ms, 1),
        "error": result.error,
    }
    # Every few seconds, all day: only a failed probe is worth a line at the default level.
    (logger.debug if result.ok else logger.info)("peer probed", extra={"peer": answer})
    return answer


def _forgetting_on_bad_password(
    connect: ConnectCredentials, credentials: CredentialCache
) -> ConnectCredentials:
    def connect_once(login: DbCredentials) -> Any:
        try:
            return connect(login)
        except Exception as exc:
            if db.is_auth_failure(exc):
                credentials.invalidate()
            raise

    return connect_once
