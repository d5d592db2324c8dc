"""Calling AWS from the DR Lambdas: client factory, throttling retry, clock and time budget.

Every client gets explicit timeouts and botocore's *standard* retry mode with a bounded number of
attempts: throttling and transient errors are retried with backoff, while a region whose API is
dead fails within seconds instead of hanging the function until its own timeout. That matters
most to the failover coordinator, which must keep deciding when the primary region is gone.

The clock and the `Deadline` live here because every wait loop in these functions polls an AWS
API under the Lambda's remaining time, and tests drive them with a fake clock (no real sleeps).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from drcommon.contract import RemoteCallBudget

# Defaults sized for control-plane calls made from a Lambda with a few minutes of budget: a TCP
# connect that takes more than 3 s is a dead endpoint, and 3 attempts bound one call to ~30 s.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 3

# Error codes that mean "the request was rejected before it did anything, try again later".
# Retrying a mutating call on these is safe. Kept in step with botocore's standard retry mode.
THROTTLING_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)

T = TypeVar("T")


def client_config(
    *,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
) -> Config:
    """The botocore `Config` every DR client uses: explicit timeouts, standard retries.

    `max_attempts` counts the first try (botocore's `total_max_attempts`), so `1` disables retries.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )


def remote_config(budget: RemoteCallBudget) -> Config:
    """The `Config` of a client for the *other* region (the one that may be lost): the hard
    budget of `contract.REMOTE_CALL_BUDGET` (or what the environment registered)."""
    return client_config(
        connect_timeout=budget.connect_timeout_seconds,
        read_timeout=budget.read_timeout_seconds,
        max_attempts=budget.max_attempts,
    )


class ClientFactory(Protocol):
    """Anything that hands out a boto3 client for a service in a region.

    Production code uses `BotoClientFactory`; tests pass a factory returning moto- or
    Stubber-backed clients, which is how a handler's AWS calls are redirected without patching.
    """

    def __call__(
        self,
        service: str,
        region: str,
        *,
        config: Config | None = None,
        endpoint_url: str | None = None,
    ) -> Any:
        """Return a client for `service` in `region` (with `config` overriding the default, and
        `endpoint_url` the regional endpoint)."""
        ...


@dataclass
class BotoClientFactory:
    """Creates boto3 clients with `config` and caches them per service, region and endpoint.

    Caching keeps clients (and their connection pools) across warm Lambda invocations. A client
    asked for with an explicit `config` is not cached: those are one-off clients with special
    timeouts (for example a synchronous Lambda invoke).
    """

    session: boto3.session.Session | None = None
    config: Config = field(default_factory=client_config)
    _cache: dict[tuple[str, str, str | None], Any] = field(
        default_factory=dict, init=False, repr=False
    )

    def __call__(
        self,
        service: str,
        region: str,
        *,
        config: Config | None = None,
        endpoint_url: str | None = None,
    ) -> Any:
        """Return a (cached unless `config` is given) client for `service` in `region`."""
        key = (service, region, endpoint_url)
        if config is None and key in self._cache:
            return self._cache[key]
        session = self.session or boto3.session.Session()
        kwargs: dict[str, Any] = {"region_name": region, "config": config or self.config}
        if endpoint_url is not None:
            kwargs["endpoint_url"] = endpoint_url
        client = session.client(service, **kwargs)
        if config is None:
            self._cache[key] = client
        return client


@dataclass(frozen=True)
class EndpointRouting:
    """A `ClientFactory` that sends some `(service, region)` pairs to given endpoint URLs.

    For a VPC-attached function without NAT that must reach another region's API: through an
    interface endpoint of the peer VPC (its endpoint-specific DNS name), over the peering.
    """

    factory: ClientFactory
    endpoint_urls: Mapping[tuple[str, str], str]

    def __call__(
        self,
        service: str,
        region: str,
        *,
        config: Config | None = None,
        endpoint_url: str | None = None,
    ) -> Any:
        """The wrapped factory's client, aimed at the configured endpoint of `(service, region)`."""
        return self.factory(
            service,
            region,
            config=config,
            endpoint_url=endpoint_url or self.endpoint_urls.get((service, region)),
        )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a `ClientError` (empty string for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_throttling(exc: BaseException) -> bool:
    """True when `exc` is an AWS throttling rejection (safe to retry, even for mutations)."""
    return error_code(exc) in THROTTLING_ERROR_CODES


class Clock(Protocol):
    """Wall clock, monotonic clock and sleep, injectable so tests never really wait."""

    def time(self) -> float:
        """Seconds since the epoch (wall clock, for timestamps and DynamoDB TTLs)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (for durations and deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Really sleep."""
        time.sleep(seconds)


class LambdaContext(Protocol):
    """The part of the Lambda context object the DR functions use."""

    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the runtime kills the invocation."""
        ...


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which the function must have wrapped up."""

    clock: Clock
    expires_at: float

    @classmethod
    def from_context(
        cls,
        context: LambdaContext | None,
        clock: Clock,
        *,
        reserve_seconds: float,
        fallback_seconds: float = 60.0,
    ) -> Deadline:
        """The Lambda's remaining time minus `reserve_seconds` kept for reporting and cleanup.

        Without a context (a local run) the budget is `fallback_seconds`.
        """
        if context is not None:
            remaining = context.get_remaining_time_in_millis() / 1000.0
        else:
            remaining = fallback_seconds
        return cls(
            clock=clock, expires_at=clock.monotonic() + max(0.0, remaining - reserve_seconds)
        )

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.expires_at - self.clock.monotonic())

    def expired(self) -> bool:
        """True once no time is left."""
        return self.remaining() <= 0.0


def retry_throttled(
    call: Callable[[], T],
    *,
    clock: Clock,
    deadline: Deadline | None = None,
    attempts: int = 6,
    base_delay: float = 1.0,
    max_delay: float = 16.0,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Run `call`, retrying AWS throttling errors with exponential backoff.

    botocore already retries throttling a few times inside each call; this outer loop exists for
    the sustained throttling a regional event produces (every customer failing over at once),
    where a handful of sub-second retries is not enough but giving up would abort a failover.
    It stops when `attempts` are used or the next wait would overrun `deadline`, and re-raises
    the last error. Anything other than throttling is raised at once.
    """
    delay = base_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as exc:
            if not is_throttling(exc) or attempt == attempts:
                raise
            if deadline is not None and deadline.remaining() <= delay:
                raise
            if on_retry is not None:
                on_retry(exc, delay)
            clock.sleep(delay)
            delay = min(max_delay, delay * 2)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
