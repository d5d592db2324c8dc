"""Pure decisions: from what the probes observed to the contract's metric values and datums.

The probes run in the VPC-attached health checker (SQL); the decisions and the publishing run in
the peer watch's health run outside the VPC (RDS and CloudWatch APIs, no interface endpoint). A
`ProbeResult` crosses between them as JSON (`as_answer` / `from_answer`). Nothing here talks to
AWS or a database; every rule of `drcommon.contract` that needs a decision is a small function
tested on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from drcommon import contract

# The probes of one health run, by name, as the checker answers them.
PROBE_NAMES = ("cluster", "reader", "peer")


class AnswerError(ValueError):
    """A health checker's answer is not the shape `as_answer` gives."""


@dataclass(frozen=True)
class ProbeResult:
    """What one probe of one endpoint observed."""

    endpoint: str
    ok: bool  # TLS login succeeded and SELECT 1 answered
    is_writer: bool | None = None  # pg_is_in_recovery() is false; None when not reached
    heartbeat_written: bool = False
    heartbeat_lag_ms: float | None = None
    latency_ms: float | None = None  # connect + TLS login + SELECT 1
    error: str | None = None

    @classmethod
    def failed(cls, endpoint: object, error: str) -> ProbeResult:
        """A probe that did not get an answer."""
        return cls(endpoint=str(endpoint), ok=False, error=error)

    @classmethod
    def from_answer(cls, answer: Any) -> ProbeResult:
        """The result a checker answered (`asdict` form); raises `AnswerError` on another shape."""
        names = {f.name for f in fields(cls)}
        if not isinstance(answer, Mapping) or set(answer) != names:
            raise AnswerError(f"a probe result has exactly the keys {sorted(names)}")
        if not isinstance(answer["ok"], bool) or not isinstance(answer["endpoint"], str):
            raise AnswerError("a probe result's 'ok' is a boolean and its 'endpoint' a string")
        return cls(**answer)


def as_answer(probes: Mapping[str, ProbeResult], errors: Mapping[str, str]) -> dict[str, Any]:
    """The checker's answer to a health probe request: every probe result and the errors seen."""
    return {
        "probes": {name: asdict(result) for name, result in probes.items()},
        "errors": dict(errors),
    }


def probes_from_answer(answer: Any) -> tuple[dict[str, ProbeResult], dict[str, str]]:
    """The probe results and errors of a checker's answer; raises `AnswerError`."""
    if not isinstance(answer, Mapping) or set(answer) != {"probes", "errors"}:
        raise AnswerError("a health probe answer has exactly the keys ['errors', 'probes']")
    probes, errors = answer["probes"], answer["errors"]
    if not isinstance(probes, Mapping) or not set(probes) <= set(PROBE_NAMES):
        raise AnswerError(f"a health probe answer's probes are among {list(PROBE_NAMES)}")
    if not isinstance(errors, Mapping):
        raise AnswerError("a health probe answer's errors are an object")
    return (
        {name: ProbeResult.from_answer(value) for name, value in probes.items()},
        {str(k): str(v) for k, v in errors.items()},
    )


@dataclass(frozen=True)
class Observation:
    """Everything one run observed, in the checker's own region."""

    local_region: str
    peer_region: str
    writer_region: str | None  # from describe_global_clusters; None when it could not be read
    cluster: ProbeResult | None  # this region's cluster endpoint (None: never probed)
    reader: ProbeResult | None  # this region's reader endpoint
    peer: ProbeResult | None  # the peer's cluster endpoint (None: not probed)


def writer_available(cluster: ProbeResult | None) -> int:
    """1 when this region's cluster answered as a writer and committed the heartbeat upsert."""
    return int(bool(cluster and cluster.ok and cluster.is_writer and cluster.heartbeat_written))


def reader_available(reader: ProbeResult | None) -> int:
    """1 when the reader endpoint accepted a TLS login and answered SELECT 1."""
    return int(bool(reader and reader.ok))


def peer_writer_available(
    local_region: str, writer_region: str | None, peer: ProbeResult | None
) -> int:
    """`PeerWriterAvailable` per the contract.

    This region holds the writer role -> 1 (no peer writer to lose). Otherwise (peer holds it, or
    the role is unknown) -> 1 only if the peer's cluster endpoint answered SELECT 1 as a writer.
    """
    if writer_region == local_region:
        return 1
    return int(bool(peer and peer.ok and peer.is_writer))


def probe_latency_ms(cluster: ProbeResult | None, reader: ProbeResult | None) -> float | None:
    """Latency of the writer-endpoint probe, else of the reader probe, else None (no answer)."""
    for result in (cluster, reader):
        if result and result.ok and result.latency_ms is not None:
            return result.latency_ms
    return None


def heartbeat_lag_ms(cluster: ProbeResult | None, reader: ProbeResult | None) -> float | None:
    """Age of the newest beat: from the cluster endpoint when it read one, else the reader's.

    On the writer this is the write round trip (the beat was just upserted); on a secondary it is
    the observed replication lag (plus up to one schedule period, since beats are per minute).
    """
    for result in (cluster, reader):
        if result and result.ok and result.heartbeat_lag_ms is not None:
            return result.heartbeat_lag_ms
    return None


def metric_values(observation: Observation) -> dict[contract.HealthMetric, float | None]:
    """The value of every contract metric (None: nothing measured, nothing published)."""
    return {
        contract.WRITER_AVAILABLE: float(writer_available(observation.cluster)),
        contract.READER_AVAILABLE: float(reader_available(observation.reader)),
        contract.PEER_WRITER_AVAILABLE: float(
            peer_writer_available(
                observation.local_region, observation.writer_region, observation.peer
            )
        ),
        contract.PROBE_LATENCY: probe_latency_ms(observation.cluster, observation.reader),
        contract.HEARTBEAT_LAG: heartbeat_lag_ms(observation.cluster, observation.reader),
    }


def metric_data(
    values: dict[contract.HealthMetric, float | None],
    *,
    environment: str,
    local_region: str,
    peer_region: str,
    timestamp: dt.datetime,
) -> list[dict[str, Any]]:
    """`put_metric_data` MetricData for the values that were measured.

    `ClusterRegion` is the region of the probed cluster: the peer's for peer metrics. Availability
    metrics are always present (a 0 is information); latency/lag only when measured.
    """
    data = []
    for metric in contract.ALL_METRICS:
        value = values.get(metric)
        if value is None:
            continue
        cluster_region = peer_region if metric.peer else local_region
        dimensions = contract.dimensions(environment, cluster_region)
        data.append(
            {
                "MetricName": metric.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": timestamp,
                "Value": float(value),
                "Unit": metric.unit.value,
                # Route 53 health checks need standard-resolution alarms: publish at 60 s.
                "StorageResolution": 60,
            }
        )
    return data
