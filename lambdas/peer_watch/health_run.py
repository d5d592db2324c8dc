"""The peer watch's health run: the once-a-minute health check, moved out of the VPC.

The SQL probes stay in the VPC-attached health checker, which this run invokes synchronously
(`contract.HEALTH_PROBE_EVENT`); the API work runs here, where no interface endpoint is needed:
the writer's region from `describe_global_clusters` (read while the checker probes), and one
`put_metric_data` of every contract metric. The metrics, their names, units and dimensions are
those the checker published before (`drcommon.health`): the alarms, the Route 53 health checks
and the coordinator's gates read them unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import contract, health, topology
from drcommon.aws import ClientFactory, Clock, client_config
from drcommon.observability import get_logger
from drcommon.parallel import gather
from peer_watch import SERVICE
from peer_watch.settings import Settings

logger = get_logger(SERVICE)

# Seconds `gather` waits beyond the checker's invoke timeout before giving up on it.
GATHER_MARGIN_SECONDS = 1.0
# The RDS read and the publish in the run's own (healthy) region: short timeouts and few
# attempts, as the checker had when it made these calls, so a slow API cannot eat the 30 s.
API_CONFIG = client_config(connect_timeout=2.0, read_timeout=4.0, max_attempts=3)


class HealthRunError(RuntimeError):
    """The health checker gave no usable answer: nothing is published and the run fails (a
    missing minute, as when the checker itself failed to run before)."""


@dataclass(frozen=True)
class HealthRunReport:
    """What one health run published (returned by the handler and logged)."""

    observation: health.Observation
    values: dict[str, float | None]
    errors: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        probes = {
            name: asdict(result)
            for name, result in (
                ("cluster", self.observation.cluster),
                ("reader", self.observation.reader),
                ("peer", self.observation.peer),
            )
            if result is not None
        }
        return {
            "values": self.values,
            "errors": self.errors,
            "writerRegion": self.observation.writer_region,
            "probes": probes,
        }


def ask_checker(
    factory: ClientFactory, settings: Settings
) -> tuple[dict[str, health.ProbeResult], dict[str, str]]:
    """Invoke the region's health checker for its probes (one attempt, read timeout the health
    probe timeout); raises `HealthRunError` when it gives no usable answer."""
    timeout = settings.health_probe_timeout_seconds
    config = client_config(connect_timeout=min(2.0, timeout), read_timeout=timeout, max_attempts=1)
    try:
        response = factory("lambda", settings.local_region, config=config).invoke(
            FunctionName=settings.health_checker_function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(contract.HEALTH_PROBE_EVENT).encode(),
        )
        body = response["Payload"].read().decode("utf-8", "replace")
    except (ClientError, BotoCoreError) as exc:
        raise HealthRunError(f"health checker not reachable: {exc}") from exc
    if response.get("FunctionError"):
        raise HealthRunError(f"health checker reported {response['FunctionError']}: {body[:300]}")
    try:
        return health.probes_from_answer(json.loads(body))
    except (json.JSONDecodeError, health.AnswerError, TypeError) as exc:
        raise HealthRunError(f"unexpected answer from the health checker: {exc}") from exc


def read_writer_region(factory: ClientFactory, settings: Settings) -> str | None:
    """The region of the global cluster's single writer (None: no single writer)."""
    rds = factory("rds", settings.local_region, config=API_CONFIG)
    snapshot = topology.describe_global_cluster(rds, settings.global_cluster_id)
    return snapshot.writer.region if snapshot.writer is not None else None


def observe(factory: ClientFactory, settings: Settings) -> tuple[health.Observation, dict]:
    """The checker's probes and the writer's region, read at the same time."""
    outcomes = gather(
        {
            "probes": lambda: ask_checker(factory, settings),
            "writer": lambda: read_writer_region(factory, settings),
        },
        timeout_seconds=settings.health_probe_timeout_seconds + GATHER_MARGIN_SECONDS,
    )
    if not outcomes["probes"].ok:
        error = outcomes["probes"].error
        raise error if isinstance(error, HealthRunError) else HealthRunError(str(error))
    probes, errors = outcomes["probes"].value
    writer = outcomes["writer"]
    if not writer.ok:
        errors["writerRole"] = f"topology unreadable: {writer.error}"
    elif writer.value is None:
        errors["writerRole"] = "no member of the global cluster holds the writer role"
    writer_region = writer.value if writer.ok else None
    observation = health.Observation(
        local_region=settings.local_region,
        peer_region=settings.peer_region,
        writer_region=writer_region,
        cluster=probes.get("cluster"),
        reader=probes.get("reader"),
        peer=probes.get("peer"),
    )
    return observation, errors


def run_health(factory: ClientFactory, settings: Settings, clock: Clock) -> HealthRunReport:
    """Observe, decide and publish every contract metric once; returns what was published.

    A checker without a usable answer and `put_metric_data` errors propagate: nothing (or not
    everything) was published, and the run must fail visibly.
    """
    timestamp = dt.datetime.fromtimestamp(clock.time(), dt.UTC)
    observation, errors = observe(factory, settings)
    values = health.metric_values(observation)
    data = health.metric_data(
        values,
        environment=settings.environment,
        local_region=settings.local_region,
        peer_region=settings.peer_region,
        timestamp=timestamp,
    )
    factory("cloudwatch", settings.local_region, config=API_CONFIG).put_metric_data(
        Namespace=contract.NAMESPACE, MetricData=data
    )
    report = HealthRunReport(
        observation=observation,
        values={metric.name: value for metric, value in values.items()},
        errors=errors,
    )
    logger.info("health check published", extra=report.as_dict())
    return report
