"""The shared pieces of the recovery path: reading an in-region failover from RDS events, reading
a health checker's peer-probe answer, and running reads concurrently."""

from __future__ import annotations

import datetime as dt

import pytest

from drcommon import contract, inregion
from drcommon.inregion import InRegionView
from drcommon.parallel import gather
from drcommon.peerprobe import ProbeOutcome, outcome_of

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def event(message: str, seconds: float) -> dict:
    """A DescribeEvents event `seconds` after T0."""
    return {"Message": message, "Date": T0 + dt.timedelta(seconds=seconds)}


STARTED = "Started cross AZ failover to DB instance: db-2."
STARTED_SAME_AZ = "Started same AZ failover to DB instance: db-2."
COMPLETED = "Completed failover to DB instance: db-2."
FAILED = "Cluster failover failed, check the health of your cluster instances and try again."


@pytest.mark.parametrize(
    ("events", "open_at"),
    [
        pytest.param([], None, id="no_events"),
        pytest.param([event(STARTED, 0)], 0, id="started_not_ended"),
        pytest.param([event(STARTED_SAME_AZ, 5)], 5, id="same_az_start"),
        pytest.param([event(STARTED, 0), event(COMPLETED, 20)], None, id="completed"),
        pytest.param([event(STARTED, 0), event(FAILED, 20)], None, id="failed_ends_it_too"),
        pytest.param(
            [event(STARTED, 0), event(COMPLETED, 20), event(STARTED, 40)], 40, id="a_second_start"
        ),
        pytest.param([event(COMPLETED, 20), event(STARTED, 0)], None, id="any_order"),
        pytest.param([event("DB cluster created.", 0)], None, id="other_messages"),
    ],
)
def test_the_open_in_region_failover_is_the_newest_start_with_no_end_after_it(events, open_at):
    expected = None if open_at is None else (T0 + dt.timedelta(seconds=open_at)).timestamp()
    assert inregion.open_failover_start(events) == expected


def test_an_unanswered_view_excuses_nothing_and_says_so():
    verdict = inregion.judge(InRegionView(error="connect timeout"), now=0, excuse_seconds=60)
    assert not verdict.excused
    assert "did not answer (connect timeout)" in verdict.detail


ANSWER = {"endpoint": "peer", "ok": True, "isWriter": True, "latencyMs": 3.0, "error": None}


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        pytest.param(ANSWER, ProbeOutcome.WRITER, id="writer"),
        pytest.param({**ANSWER, "isWriter": False}, ProbeOutcome.NOT_WRITER, id="reader"),
        pytest.param(
            {**ANSWER, "ok": False, "isWriter": None, "error": "timed out"},
            ProbeOutcome.FAILED,
            id="failed",
        ),
        # anything but the contract's answer is no evidence either way
        pytest.param(contract.PEER_PROBE_EVENT, ProbeOutcome.UNAVAILABLE, id="echo"),
        pytest.param({**ANSWER, "extra": 1}, ProbeOutcome.UNAVAILABLE, id="extra_key"),
        pytest.param("not json", ProbeOutcome.UNAVAILABLE, id="not_an_object"),
        pytest.param({**ANSWER, "ok": "yes"}, ProbeOutcome.UNAVAILABLE, id="ok_not_a_boolean"),
    ],
)
def test_a_peer_probe_answer_is_read_strictly(answer, outcome):
    assert outcome_of(answer)[0] is outcome


def test_gather_keeps_each_outcome_and_every_error():
    def broken() -> int:
        raise KeyError("x")

    outcomes = gather({"one": lambda: 1, "broken": broken}, timeout_seconds=5)
    assert outcomes["one"].ok and outcomes["one"].value == 1
    assert not outcomes["broken"].ok and isinstance(outcomes["broken"].error, KeyError)
