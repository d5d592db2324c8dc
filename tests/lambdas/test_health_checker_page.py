"""Health checker: the direct page to the coordinator when the peer writer is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from awsfakes import DR_REGION, PRIMARY_REGION
from awsfakes import stubbed_client as make_stubbed_client
from botocore.stub import ANY
from test_health_checker import connector, make_settings, run, stub_rds

from drcommon import contract
from drcommon.db import Endpoint
from health_checker import page
from health_checker.checker import run_health_check

COORDINATOR = "aurora-dr-coordinator-use1-citest"
OBSERVED = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("peer_value", "writer_region", "expected"),
    [
        (0.0, DR_REGION, True),  # the writer over there did not answer
        (0.0, None, True),  # the role could not be read and the peer did not answer
        (1.0, DR_REGION, False),  # the peer writer answered
        (1.0, PRIMARY_REGION, False),  # this region is the writer: nothing to lose
        (None, DR_REGION, False),  # nothing measured
    ],
)
def test_should_page_only_when_the_peer_writer_is_lost(peer_value, writer_region, expected):
    values = {contract.PEER_WRITER_AVAILABLE: peer_value}
    assert page.should_page(values, PRIMARY_REGION, writer_region) is expected


def test_the_page_names_both_regions_and_when_it_was_seen():
    event = page.page_event(PRIMARY_REGION, DR_REGION, OBSERVED)
    assert event == {
        "source": "aurora-dr.health-checker",
        "detail-type": "Peer Writer Unreachable",
        "detail": {
            "region": PRIMARY_REGION,
            "peerRegion": DR_REGION,
            "observedAt": "2026-11-23T01:00:00+00:00",
        },
    }


def lambda_stub(*, fail: bool = False):
    client, stubber = make_stubbed_client("lambda", PRIMARY_REGION)
    expected = {"FunctionName": COORDINATOR, "InvocationType": "Event", "Payload": ANY}
    if fail:
        stubber.add_client_error(
            "invoke", service_error_code="TooManyRequestsException", expected_params=expected
        )
    else:
        stubber.add_response("invoke", {"StatusCode": 202}, expected)
    return client, stubber


def record_calls(calls: list[str], *clients) -> None:
    """Append `<service>.<operation>` to `calls` for every API call the clients make."""
    for client in clients:
        service = client.meta.service_model.service_name
        # `before-parameter-build` fires for every call, before a Stubber or moto answers it.
        client.meta.events.register(
            "before-parameter-build",
            lambda model, calls=calls, service=service, **_: calls.append(
                f"{service}.{model.name}"
            ),
        )


def test_a_lost_peer_writer_pages_the_coordinator_after_publishing(
    cloud, postgres_server, closed_port
):
    """GIVEN the peer holds the writer role and refuses connections, and a coordinator is
    configured WHEN the check runs THEN the metrics are published first, and then the coordinator
    is paged asynchronously with this region's page (the alarm path never waits for the page)."""
    settings = make_settings(
        postgres_server,
        peer_cluster_endpoint=Endpoint("127.0.0.1", closed_port),
        coordinator_function_name=COORDINATOR,
    )
    client, stubber = lambda_stub()
    calls: list[str] = []
    record_calls(calls, cloud.cw, client)
    with stubber:
        report = run_with_lambda(settings, cloud, client, postgres_server)
    stubber.assert_no_pending_responses()
    assert calls == ["cloudwatch.PutMetricData", "lambda.Invoke"]
    assert report.page == page.PageOutcome(paged=True, detail=f"paged {COORDINATOR}")
    assert report.values["PeerWriterAvailable"] == 0


def test_a_healthy_peer_pages_nobody(cloud, postgres_server):
    settings = make_settings(postgres_server, coordinator_function_name=COORDINATOR)
    client, stubber = make_stubbed_client("lambda", PRIMARY_REGION)
    with stubber:  # no response queued: any invoke would fail the test
        report = run_with_lambda(settings, cloud, client, postgres_server, writer=DR_REGION)
    assert report.page is None
    assert report.values["PeerWriterAvailable"] == 1


def test_a_failed_page_is_reported_and_the_metrics_still_stand(cloud, postgres_server, closed_port):
    settings = make_settings(
        postgres_server,
        peer_cluster_endpoint=Endpoint("127.0.0.1", closed_port),
        coordinator_function_name=COORDINATOR,
    )
    client, stubber = lambda_stub(fail=True)
    with stubber:
        report = run_with_lambda(settings, cloud, client, postgres_server)
    assert report.page is not None and not report.page.paged
    assert "TooManyRequestsException" in report.page.detail
    names = {
        m["MetricName"] for m in cloud.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"]
    }
    assert contract.PEER_WRITER_AVAILABLE.name in names


def test_without_a_configured_coordinator_nothing_is_paged(cloud, postgres_server, closed_port):
    settings = make_settings(
        postgres_server, peer_cluster_endpoint=Endpoint("127.0.0.1", closed_port)
    )
    report = run(settings, cloud, stub_rds(DR_REGION), server=postgres_server)
    assert report.page is None


def run_with_lambda(settings, cloud, client, server, writer=DR_REGION):
    return run_health_check(
        settings,
        secretsmanager=cloud.sm,
        rds=stub_rds(writer),
        cloudwatch=cloud.cw,
        connect=connector(server),
        budget_seconds=5.0,
        lambda_client=client,
    )


def test_the_coordinator_accepts_the_page_the_health_checker_sends():
    """The two functions agree on the page: what the DR checker sends, the DR coordinator
    turns into an unplanned failover request into its own region."""
    from aws_fixtures import DR, ENV, PRIMARY

    from failover_coordinator.decision import Operation, Trigger
    from failover_coordinator.events import parse_event
    from failover_coordinator.settings import Settings as CoordinatorSettings

    settings = CoordinatorSettings.from_env({**ENV, "AWS_REGION": DR, "PEER_REGION": PRIMARY})
    event = page.page_event(DR, PRIMARY, OBSERVED)
    request = parse_event(event, settings, now=OBSERVED.timestamp() + 5)
    assert request.trigger is Trigger.PAGE
    assert request.operation is Operation.FAILOVER
    assert request.target_region == DR
