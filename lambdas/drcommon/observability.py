"""One way for every DR function to log and emit metrics (Powertools, structured JSON).

Each function names itself with its `SERVICE` (the package name, e.g. `failover_coordinator`) in
its logger and metrics, and every module of the function logs through `get_logger(SERVICE)`. Log
level comes from Powertools' own variables (`POWERTOOLS_LOG_LEVEL`, default INFO). The metrics
namespace defaults to the health contract's, so a function that emits health metrics through EMF
cannot spell it differently from the alarms that read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics

from drcommon import contract


def get_logger(service: str) -> Logger:
    """The function's JSON logger (`service` is its package name).

    Every module of a function may call this: the loggers share one configuration, so the keys
    the handler adds (`inject_lambda_context`, `append_keys`) appear on every line.
    """
    return Logger(service=service, utc=True)


def get_metrics(service: str, namespace: str = contract.NAMESPACE) -> Metrics:
    """An EMF metrics object for one function, in the contract namespace by default."""
    return Metrics(namespace=namespace, service=service)


@dataclass(frozen=True)
class MetricPoint:
    """One metric of an invocation's outcome (a CloudWatch unit name, e.g. `Count`)."""

    name: str
    unit: str
    value: float


def add_outcome_metrics(
    metrics: Metrics, points: Iterable[MetricPoint], *, environment: str
) -> None:
    """Add an invocation's metrics under the stack's `Environment` dimension.

    `@metrics.log_metrics` on the handler flushes them (one EMF document) when it returns.
    """
    metrics.add_dimension(name=contract.DIMENSION_ENVIRONMENT, value=environment)
    for point in points:
        metrics.add_metric(name=point.name, unit=point.unit, value=point.value)
