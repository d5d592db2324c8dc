"""The four events the coordinator accepts, parsed strictly into typed requests.

(a) EventBridge "CloudWatch Alarm State Change" for this region's probe alarm ("the global writer
    is unreachable from this region"). In ALARM it asks for an unplanned failover *to this
    region*; any other state is ignored.
(b) EventBridge events from `aws.rds` (global-failover and friends): recorded and notified only.
    They never start a failover: RDS reports on an operation that is already happening.
(c) A manual request from an operator::

        {"action": "switchover" | "failover", "targetRegion": "<region>",
         "dryRun": false, "force": false}

    Keys are checked strictly (a misspelt `dryrun` must not turn a dry run into a real
    failover) and the booleans must be JSON booleans.
(d) A page from this region's peer watch, invoked asynchronously once its probes of the peer
    writer have failed over its confirmation window (without waiting for the probe alarm's
    datapoints)::

        {"source": "aurora-dr.health-checker", "detail-type": "Peer Writer Unreachable",
         "detail": {"region": "<this region>", "peerRegion": "<the peer region>",
                    "observedAt": "<ISO-8601 UTC timestamp>"}}

    (The source name predates the watch; the probes are still the health checker's.) It asks for
    the same unplanned failover *to this region* as (a); the decision counts the page as this
    region's confirmed observation (see `decision.py`, gate 7) and still probes the writer once
    more itself. Keys, types and regions are checked strictly, and `observedAt` must be recent:
    an asynchronous invocation can be retried or delayed for hours, and an old page is not
    evidence of anything (`StalePage`, older than `PAGE_MAX_AGE_SECONDS` or too far in the
    future).

Anything else raises `InvalidEvent` before any AWS call is made.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from drcommon import contract
from failover_coordinator.decision import Operation, Request, Trigger
from failover_coordinator.settings import Settings

ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
RDS_SOURCE = "aws.rds"
MANUAL_KEYS = frozenset({"action", "targetRegion", "dryRun", "force"})
PAGE_SOURCE = contract.PAGE_SOURCE
PAGE_DETAIL_TYPE = contract.PAGE_DETAIL_TYPE
PAGE_KEYS = frozenset({"source", "detail-type", "detail"})
PAGE_DETAIL_KEYS = frozenset({"region", "peerRegion", "observedAt"})
# A page older than this is not a fresh observation (the probe alarm covers a longer outage).
PAGE_MAX_AGE_SECONDS = 300.0
# Tolerated clock skew between the health checker and the coordinator (same region).
PAGE_MAX_SKEW_SECONDS = 30.0

# RDS event ids worth naming in notifications, as the Aurora User Guide lists them ("Amazon RDS
# event categories and event messages for Aurora", DB cluster events): 0185 in the
# global-failover category ends a managed switchover or failover, 0238/0239 end an unplanned
# one, 0390/0391 mark the old primary's write path blocked and unblocked.
RDS_EVENT_MEANINGS = {
    "RDS-EVENT-0185": "global switchover/failover finished",
    "RDS-EVENT-0238": "unplanned global failover completed",
    "RDS-EVENT-0239": "unplanned global failover failed",
    "RDS-EVENT-0390": "write path blocked on the old primary",
    "RDS-EVENT-0391": "write path unblocked on the old primary",
}
RDS_COMPLETION_EVENTS = frozenset({"RDS-EVENT-0185", "RDS-EVENT-0238"})
RDS_FAILURE_EVENTS = frozenset({"RDS-EVENT-0239"})


_OPERATIONS = {operation.value: operation for operation in Operation}


class InvalidEvent(ValueError):
    """The event is malformed or not one the coordinator handles."""


class StalePage(InvalidEvent):
    """A well-formed peer-watch page whose observation is too old (or in the future)."""


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that needs no decision (an alarm leaving or not entering ALARM)."""

    reason: str


@dataclass(frozen=True)
class RdsNotice:
    """An RDS event delivered by EventBridge: recorded and notified, never acted upon."""

    detail_type: str
    event_id: str | None
    categories: tuple[str, ...]
    source_arn: str | None
    source_identifier: str | None
    message: str
    region: str | None

    @property
    def meaning(self) -> str:
        """A human label for the event id, when it is one we know."""
        return RDS_EVENT_MEANINGS.get(self.event_id or "", "")


ParsedEvent = Request | RdsNotice | Ignored


def parse_event(event: Any, settings: Settings, *, now: float | None = None) -> ParsedEvent:
    """Classify and validate `event`; raises `InvalidEvent` with a message naming the problem.

    `now` (seconds since the epoch, default: the system clock) dates a page's observation.
    """
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"event must be a JSON object, got {type(event).__name__}")
    source = event.get("source")
    if source == ALARM_SOURCE:
        return _parse_alarm(event, settings)
    if source == RDS_SOURCE:
        return _parse_rds(event)
    if source == PAGE_SOURCE:
        return _parse_page(event, settings, time.time() if now is None else now)
    if source is not None:
        raise InvalidEvent(f"unsupported event source {source!r}")
    if "action" in event:
        return _parse_manual(event, settings)
    raise InvalidEvent(
        "unrecognised event: expected an EventBridge alarm or RDS event, a peer-watch page, "
        "or a manual request "
        '{"action": "switchover"|"failover", "targetRegion": ..., "dryRun": bool, "force": bool}'
    )


def _detail(event: Mapping[str, Any]) -> Mapping[str, Any]:
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidEvent("EventBridge event has no 'detail' object")
    return detail


def _parse_alarm(event: Mapping[str, Any], settings: Settings) -> Request | Ignored:
    if event.get("detail-type") != ALARM_DETAIL_TYPE:
        raise InvalidEvent(
            f"unsupported CloudWatch event detail-type {event.get('detail-type')!r}; "
            f"expected {ALARM_DETAIL_TYPE!r}"
        )
    detail = _detail(event)
    name = detail.get("alarmName")
    if name != settings.local.probe_alarm_name:
        # A misrouted rule must fail loudly, not trigger a failover on someone else's alarm.
        raise InvalidEvent(
            f"alarm {name!r} is not this coordinator's trigger alarm "
            f"{settings.local.probe_alarm_name!r}"
        )
    region = event.get("region")
    if region is not None and region != settings.local.region:
        raise InvalidEvent(
            f"alarm event from region {region!r}, but the coordinator runs in {settings.local.region!r}"
        )
    state = detail.get("state")
    value = state.get("value") if isinstance(state, Mapping) else None
    if not isinstance(value, str):
        raise InvalidEvent("alarm event has no detail.state.value")
    if value != "ALARM":
        return Ignored(reason=f"alarm {name} is {value}: nothing to do")
    return Request(
        operation=Operation.FAILOVER,
        target_region=settings.local.region,
        trigger=Trigger.ALARM,
    )


def _parse_rds(event: Mapping[str, Any]) -> RdsNotice:
    detail = _detail(event)
    categories = detail.get("EventCategories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise InvalidEvent("RDS event detail.EventCategories must be a list of strings")
    event_id = detail.get("EventID")
    return RdsNotice(
        detail_type=str(event.get("detail-type", "")),
        event_id=event_id if isinstance(event_id, str) else None,
        categories=tuple(categories),
        source_arn=detail.get("SourceArn") if isinstance(detail.get("SourceArn"), str) else None,
        source_identifier=(
            detail.get("SourceIdentifier")
            if isinstance(detail.get("SourceIdentifier"), str)
            else None
        ),
        message=str(detail.get("Message", "")),
        region=event.get("region") if isinstance(event.get("region"), str) else None,
    )


def _parse_page(event: Mapping[str, Any], settings: Settings, now: float) -> Request:
    unknown = sorted(set(event) - PAGE_KEYS)
    if unknown:
        raise InvalidEvent(
            f"unknown key(s) {', '.join(unknown)} in peer-watch page; allowed: "
            f"{', '.join(sorted(PAGE_KEYS))}"
        )
    if event.get("detail-type") != PAGE_DETAIL_TYPE:
        raise InvalidEvent(
            f"unsupported peer-watch page detail-type {event.get('detail-type')!r}; "
            f"expected {PAGE_DETAIL_TYPE!r}"
        )
    detail = _detail(event)
    unknown = sorted(set(detail) - PAGE_DETAIL_KEYS)
    missing = sorted(PAGE_DETAIL_KEYS - set(detail))
    if unknown or missing:
        raise InvalidEvent(
            f"peer-watch page detail must have exactly the keys "
            f"{', '.join(sorted(PAGE_DETAIL_KEYS))} (unknown: {', '.join(unknown) or 'none'}; "
            f"missing: {', '.join(missing) or 'none'})"
        )
    for key in sorted(PAGE_DETAIL_KEYS):
        if not isinstance(detail[key], str):
            raise InvalidEvent(f"page detail.{key} must be a string, got {detail[key]!r}")
    # The page reports what *this* region sees: a page naming other regions is misrouted.
    if detail["region"] != settings.local.region:
        raise InvalidEvent(
            f"page from the peer watch in {detail['region']!r}, but the coordinator runs "
            f"in {settings.local.region!r}"
        )
    if detail["peerRegion"] != settings.peer.region:
        raise InvalidEvent(
            f"page names peer region {detail['peerRegion']!r}, but the coordinator's peer is "
            f"{settings.peer.region!r}"
        )
    observed_at = detail["observedAt"]
    observed = _utc_timestamp(observed_at)
    age = now - observed.timestamp()
    if age > PAGE_MAX_AGE_SECONDS:
        raise StalePage(
            f"stale page: observed at {observed_at}, {age:.0f} s ago (more than "
            f"{PAGE_MAX_AGE_SECONDS:.0f} s); not acting on an old observation"
        )
    if age < -PAGE_MAX_SKEW_SECONDS:
        raise StalePage(
            f"page observed at {observed_at}, {-age:.0f} s in the future (more than "
            f"{PAGE_MAX_SKEW_SECONDS:.0f} s of clock skew); not acting on it"
        )
    return Request(
        operation=Operation.FAILOVER,
        target_region=settings.local.region,
        trigger=Trigger.PAGE,
        observed_at=observed_at,
    )


def _utc_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp with an explicit UTC offset (`Z` or `+00:00`)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(
            f"page detail.observedAt {text!r} is not an ISO-8601 timestamp"
        ) from None
    if parsed.utcoffset() != timedelta(0):
        raise InvalidEvent(
            f"page detail.observedAt {text!r} must be in UTC (end with 'Z' or '+00:00')"
        )
    return parsed


def _parse_manual(event: Mapping[str, Any], settings: Settings) -> Request:
    unknown = sorted(set(event) - MANUAL_KEYS)
    if unknown:
        raise InvalidEvent(
            f"unknown key(s) {', '.join(unknown)} in manual request; allowed: "
            f"{', '.join(sorted(MANUAL_KEYS))}"
        )
    action = event.get("action")
    operation = _OPERATIONS.get(action) if isinstance(action, str) else None
    if operation is None:
        raise InvalidEvent(f"action must be 'switchover' or 'failover', got {action!r}")
    target = event.get("targetRegion")
    if target not in settings.regions:
        raise InvalidEvent(
            f"targetRegion must be one of {', '.join(settings.regions)}, got {target!r}"
        )
    flags = {}
    for key in ("dryRun", "force"):
        value = event.get(key, False)
        if not isinstance(value, bool):
            raise InvalidEvent(f"{key} must be a JSON boolean, got {value!r}")
        flags[key] = value
    return Request(
        operation=operation,
        target_region=target,
        trigger=Trigger.MANUAL,
        dry_run=flags["dryRun"],
        force=flags["force"],
    )
