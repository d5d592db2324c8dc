"""The coordinator's lag read (`Observer.lag`) against CloudWatch's exact request shapes.

The scenario table (test_failover_coordinator.py) reads lag through moto, which is lenient about
what it is asked: it accepts any period or statistic, and ignores `ScanBy`. Here every call is a
botocore Stubber expecting the exact parameters AWS documents, so a changed namespace, dimension,
statistic, period or window is a failing test, and each answer AWS may give is exercised: several
dimension sets over several pages, series with no datapoints, errors and throttling.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fixtures import (
    DR,
    ENV,
    GID,
    PRIMARY,
    FakeClock,
    client,
    global_cluster_response,
    log_records,
    member,
)
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from drcommon.aws import Deadline
from drcommon.contract import REMOTE_CALL_BUDGET
from failover_coordinator import observe as observe_module
from failover_coordinator.decision import LagReading
from failover_coordinator.observe import Observer
from failover_coordinator.settings import Settings

SETTINGS = Settings.from_env(ENV)
CLUSTER = "aurora-dr-dev-dr"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RPO_LAG = "AuroraGlobalDBRPOLag"
REPLICATION_LAG = "AuroraGlobalDBReplicationLag"
CLUSTER_ONLY = [{"Name": "DBClusterIdentifier", "Value": CLUSTER}]
WITH_SOURCE = [*CLUSTER_ONLY, {"Name": "SourceRegion", "Value": PRIMARY}]


def _list_params(metric_name: str, next_token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Namespace": "AWS/RDS",
        "MetricName": metric_name,
        "Dimensions": CLUSTER_ONLY,
    }
    if next_token is not None:
        params["NextToken"] = next_token
    return params


def _metric(metric_name: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    return {"Namespace": "AWS/RDS", "MetricName": metric_name, "Dimensions": dimensions}


def _query(index: int, metric_name: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    """The query AWS is asked for the `index`-th series: its maximum per minute."""
    return {
        "Id": f"m{index}",
        "Label": metric_name,
        "MetricStat": {
            "Metric": _metric(metric_name, dimensions),
            "Period": 60,
            "Stat": "Maximum",
        },
        "ReturnData": True,
    }


def _data_params(*queries: dict[str, Any], lookback: int = 600) -> dict[str, Any]:
    return {
        "MetricDataQueries": list(queries),
        "StartTime": NOW - timedelta(seconds=lookback),
        "EndTime": NOW + timedelta(seconds=60),
        "ScanBy": "TimestampDescending",
    }


def _series(query_id: str, *points: tuple[int, float]) -> dict[str, Any]:
    """A result of `(seconds ago, value)` points, in the order given (AWS promises none)."""
    return {
        "Id": query_id,
        "Label": "ignored",
        "Timestamps": [NOW - timedelta(seconds=age) for age, _ in points],
        "Values": [value for _, value in points],
        "StatusCode": "Complete",
    }


def _observer(
    answering: Any,
    settings: Settings = SETTINGS,
    left: float = 1e9,
    service: str = "cloudwatch",
) -> Observer:
    """An observer whose factory hands out `answering` for `service` in DR, and nothing else:
    a read in the wrong region or of the wrong service fails the test."""
    clock = FakeClock(start=NOW.timestamp())

    def factory(asked_service: str, region: str, **_: Any) -> Any:
        assert (asked_service, region) == (service, DR)
        return answering

    return Observer(settings, factory, clock, Deadline(clock, clock.monotonic() + left))


def _stubbed() -> tuple[Any, Stubber]:
    cloudwatch = client("cloudwatch", DR)
    return cloudwatch, Stubber(cloudwatch)


def _both_metrics_listed(stubber: Stubber) -> None:
    """One dimension set of each metric: the cluster alone."""
    for metric_name in (RPO_LAG, REPLICATION_LAG):
        stubber.add_response(
            "list_metrics",
            {"Metrics": [_metric(metric_name, CLUSTER_ONLY)]},
            _list_params(metric_name),
        )


def test_every_listed_dimension_set_of_both_metrics_is_read_over_its_own_lookback() -> None:
    # GIVEN the RPO lag listed with two dimension sets over two pages, the replication lag with
    # one, and a lookback of five minutes
    cloudwatch, stubber = _stubbed()
    stubber.add_response(
        "list_metrics",
        {"Metrics": [_metric(RPO_LAG, CLUSTER_ONLY)], "NextToken": "page-2"},
        _list_params(RPO_LAG),
    )
    stubber.add_response(
        "list_metrics",
        {"Metrics": [_metric(RPO_LAG, WITH_SOURCE)]},
        _list_params(RPO_LAG, "page-2"),
    )
    stubber.add_response(
        "list_metrics",
        {"Metrics": [_metric(REPLICATION_LAG, WITH_SOURCE)]},
        _list_params(REPLICATION_LAG),
    )
    queries = (
        _query(0, RPO_LAG, CLUSTER_ONLY),
        _query(1, RPO_LAG, WITH_SOURCE),
        _query(2, REPLICATION_LAG, WITH_SOURCE),
    )
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                _series("m0", (30, 400.0)),
                _series("m1", (90, 9_000.0), (30, 700.0), (150, 8_000.0)),
                _series("m2", (30, 650.0)),
            ]
        },
        _data_params(*queries, lookback=300),
    )
    stubber.activate()
    settings = Settings.from_env({**ENV, "LAG_LOOKBACK_SECONDS": "300"})
    assert settings.lag_lookback_seconds == 300
    # WHEN the coordinator reads the lag
    reading = _observer(cloudwatch, settings).lag(DR, CLUSTER)
    # THEN it asked for exactly those series, and judged the worst of their newest datapoints
    stubber.assert_no_pending_responses()
    assert reading == LagReading(700.0, RPO_LAG)


@pytest.mark.parametrize(
    ("results", "reading"),
    [
        pytest.param(
            [_series("m0", (30, 400.0)), _series("m1", (30, 1_400.0))],
            LagReading(1_400.0, REPLICATION_LAG),
            id="the worst series names its metric",
        ),
        pytest.param(
            [_series("m0"), _series("m1", (30, 250.0))],
            LagReading(250.0, REPLICATION_LAG),
            id="a series without datapoints is left out of the worst",
        ),
        pytest.param(
            [_series("m0"), _series("m1")],
            LagReading(None, "no lag datapoints in the lookback window"),
            id="no datapoints at all is no reading and says so",
        ),
    ],
)
def test_the_reading_is_the_worst_newest_datapoint_of_the_series_with_data(
    results: list[dict[str, Any]], reading: LagReading
) -> None:
    # GIVEN both metrics listed for the cluster, and these series in the window (an empty one:
    # the primary died before the window began)
    cloudwatch, stubber = _stubbed()
    _both_metrics_listed(stubber)
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": results},
        _data_params(_query(0, RPO_LAG, CLUSTER_ONLY), _query(1, REPLICATION_LAG, CLUSTER_ONLY)),
    )
    stubber.activate()
    # WHEN read / THEN the worst newest datapoint decides, named by its metric; none is unknown,
    # with the reason the refusal quotes
    assert _observer(cloudwatch).lag(DR, CLUSTER) == reading


def test_no_listed_metric_is_no_reading_without_asking_for_data() -> None:
    # GIVEN neither metric listed for the cluster (a wrong identifier, or a cluster not in a
    # global database)
    cloudwatch, stubber = _stubbed()
    for metric_name in (RPO_LAG, REPLICATION_LAG):
        stubber.add_response("list_metrics", {"Metrics": []}, _list_params(metric_name))
    stubber.activate()
    # WHEN read / THEN unknown, and the reason names what is missing (GetMetricData refuses an
    # empty query list, so it is not called)
    reading = _observer(cloudwatch).lag(DR, CLUSTER)
    stubber.assert_no_pending_responses()
    assert reading == LagReading(None, "no lag metrics published for the target cluster")


def test_an_unreadable_lag_is_no_reading_and_logged_with_the_region() -> None:
    # GIVEN CloudWatch refusing the data read (not throttling)
    cloudwatch, stubber = _stubbed()
    _both_metrics_listed(stubber)
    stubber.add_client_error(
        "get_metric_data", service_error_code="AccessDenied", service_message="no"
    )
    stubber.activate()
    # WHEN read
    with log_records(observe_module.logger) as records:
        reading = _observer(cloudwatch).lag(DR, CLUSTER)
    # THEN unknown, the reason carries AWS's error, and the log names the region
    assert reading.lag_ms is None
    assert reading.source.startswith("lag unreadable: ")
    assert "AccessDenied" in reading.source
    ((record,),) = [records]
    assert (record.getMessage(), record.levelname, record.region) == (
        "lag unreadable",
        "WARNING",
        DR,
    )
    assert "AccessDenied" in record.error


def test_a_throttled_lag_read_is_retried_on_the_injected_clock_and_logged() -> None:
    # GIVEN the data read throttled once
    cloudwatch, stubber = _stubbed()
    _both_metrics_listed(stubber)
    queries = (_query(0, RPO_LAG, CLUSTER_ONLY), _query(1, REPLICATION_LAG, CLUSTER_ONLY))
    stubber.add_client_error(
        "get_metric_data", service_error_code="Throttling", expected_params=_data_params(*queries)
    )
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": [_series("m0", (30, 300.0)), _series("m1", (30, 200.0))]},
        _data_params(*queries),
    )
    stubber.activate()
    observer = _observer(cloudwatch)
    # WHEN read
    with log_records(observe_module.logger) as records:
        reading = observer.lag(DR, CLUSTER)
    # THEN it waited the first backoff on its own clock, said so, and read the lag
    assert reading == LagReading(300.0, RPO_LAG)
    assert observer.clock.sleeps == [1.0]  # type: ignore[attr-defined]
    ((record,),) = [records]
    assert (record.getMessage(), record.operation, record.delay) == (
        "throttled, retrying",
        "get_metric_data",
        1.0,
    )
    assert "Throttling" in record.error


def test_a_throttled_topology_read_is_retried_and_logged() -> None:
    # GIVEN the local DescribeGlobalClusters throttled once
    rds = client("rds", DR)
    stubber = Stubber(rds)
    stubber.add_client_error("describe_global_clusters", service_error_code="Throttling")
    stubber.add_response(
        "describe_global_clusters",
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
        ),
        {"GlobalClusterIdentifier": GID},
    )
    stubber.activate()
    observer = _observer(rds, service="rds")
    # WHEN the coordinator reads the topology
    with log_records(observe_module.logger) as records:
        snapshot = observer.global_cluster()
    # THEN after one backoff on its clock, logged, it has the writer
    assert snapshot.writer is not None
    assert snapshot.writer.region == PRIMARY
    assert observer.clock.sleeps == [1.0]  # type: ignore[attr-defined]
    assert [(r.getMessage(), r.operation) for r in records] == [
        ("throttled, retrying", "describe_global_clusters")
    ]


def test_a_throttled_lag_read_is_not_retried_past_the_runs_deadline() -> None:
    # GIVEN the data read throttled, and less time left than the first backoff
    cloudwatch, stubber = _stubbed()
    _both_metrics_listed(stubber)
    stubber.add_client_error("get_metric_data", service_error_code="Throttling")
    stubber.activate()
    observer = _observer(cloudwatch, left=0.5)
    # WHEN read / THEN it gives up at once: unknown lag (the gate then refuses), no wait
    reading = observer.lag(DR, CLUSTER)
    assert reading.lag_ms is None
    assert "Throttling" in reading.source
    assert observer.clock.sleeps == []  # type: ignore[attr-defined]


def test_a_throttled_topology_read_is_not_retried_past_the_runs_deadline() -> None:
    # GIVEN the local DescribeGlobalClusters throttled, and less time left than the backoff
    rds = client("rds", DR)
    stubber = Stubber(rds)
    stubber.add_client_error("describe_global_clusters", service_error_code="Throttling")
    stubber.activate()
    observer = _observer(rds, left=0.5, service="rds")
    # WHEN the coordinator reads the topology / THEN the throttling error ends the run at once
    with pytest.raises(ClientError, match="Throttling"):
        observer.global_cluster()
    assert observer.clock.sleeps == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("metrics_page", "data", "reason"),
    [
        ({}, None, "no lag metrics published for the target cluster"),
        (
            {"Metrics": [_metric(RPO_LAG, CLUSTER_ONLY)]},
            {},
            "no lag datapoints in the lookback window",
        ),
        (
            {"Metrics": [_metric(RPO_LAG, CLUSTER_ONLY)]},
            {"MetricDataResults": [{"Id": "m0", "StatusCode": "Complete"}]},
            "no lag datapoints in the lookback window",
        ),
    ],
)
def test_an_answer_that_leaves_out_its_lists_reads_as_no_data(
    metrics_page: dict[str, Any], data: dict[str, Any] | None, reason: str
) -> None:
    # GIVEN answers without the lists AWS may leave out when empty (botocore does not fill them
    # in): a page without `Metrics`, a response without `MetricDataResults`, a result without
    # `Values` and `Timestamps`
    cloudwatch, stubber = _stubbed()
    stubber.add_response("list_metrics", metrics_page, _list_params(RPO_LAG))
    stubber.add_response("list_metrics", {"Metrics": []}, _list_params(REPLICATION_LAG))
    if data is not None:
        stubber.add_response(
            "get_metric_data", data, _data_params(_query(0, RPO_LAG, CLUSTER_ONLY))
        )
    stubber.activate()
    # WHEN read / THEN no reading, with its reason, and no crash
    assert _observer(cloudwatch).lag(DR, CLUSTER) == LagReading(None, reason)


def test_a_listed_metric_without_dimensions_is_queried_without_any() -> None:
    # GIVEN a listed series whose `Dimensions` member is left out of the answer
    cloudwatch, stubber = _stubbed()
    stubber.add_response(
        "list_metrics",
        {"Metrics": [{"Namespace": "AWS/RDS", "MetricName": RPO_LAG}]},
        _list_params(RPO_LAG),
    )
    stubber.add_response("list_metrics", {"Metrics": []}, _list_params(REPLICATION_LAG))
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": [_series("m0", (30, 100.0))]},
        _data_params(_query(0, RPO_LAG, [])),
    )
    stubber.activate()
    # WHEN read / THEN its query names no dimensions (GetMetricData needs the list) and reads it
    assert _observer(cloudwatch).lag(DR, CLUSTER) == LagReading(100.0, RPO_LAG)


def _recording_observer() -> tuple[Observer, list[tuple[tuple[Any, ...], dict[str, Any]]]]:
    """An observer whose client factory records how each client was asked for."""
    asked: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def factory(*args: Any, **kwargs: Any) -> str:
        asked.append((args, kwargs))
        return "client"

    clock = FakeClock()
    return Observer(SETTINGS, factory, clock, Deadline(clock, 1e9)), asked


def test_a_client_for_the_other_region_has_the_remote_call_budget() -> None:
    # GIVEN the coordinator in DR
    observer, asked = _recording_observer()
    # WHEN it asks for a client in the primary's region (the one that may be lost)
    assert observer.client("cloudwatch", PRIMARY) == "client"
    # THEN that client has the hard budget: seconds, not botocore's ~40 s, on a black hole
    ((args, kwargs),) = asked
    assert args == ("cloudwatch", PRIMARY)
    config = kwargs["config"]
    assert (config.connect_timeout, config.read_timeout) == (
        REMOTE_CALL_BUDGET.connect_timeout_seconds,
        REMOTE_CALL_BUDGET.read_timeout_seconds,
    )
    assert config.retries["total_max_attempts"] == REMOTE_CALL_BUDGET.max_attempts


def test_a_client_for_its_own_region_has_the_factorys_defaults() -> None:
    # GIVEN the coordinator in DR / WHEN it asks for a client in DR
    observer, asked = _recording_observer()
    assert observer.client("cloudwatch", DR) == "client"
    # THEN no remote budget: its own region is alive by construction, and a read there may take
    # the usual retries
    assert asked == [(("cloudwatch", DR), {})]
