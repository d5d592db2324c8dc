"""Powertools factories so every DR function logs structured JSON the same way.

Log level comes from Powertools' own variables (`POWERTOOLS_LOG_LEVEL`, default INFO). The metrics
namespace defaults to the health contract's, so a function that emits health metrics through EMF
cannot spell it differently from the alarms that read it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from drcommon import contract


def get_logger(service: str) -> Logger:
    """A JSON logger for one function (`service` is the function's short name)."""
    return Logger(service=service, utc=True)


def get_metrics(service: str, namespace: str = contract.NAMESPACE) -> Metrics:
    """An EMF metrics object for one function, in the contract namespace by default."""
    return Metrics(namespace=namespace, service=service)
