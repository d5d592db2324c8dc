"""The skip rule of the post-deploy checks, without AWS: a missing precondition skips on a laptop
and fails where the deploy workflow requires the checks (`AURORA_DR_REQUIRE_DEPLOYED=1`).

These tests need no deployed stack, so they run in `make test` and in the deploy workflow alike.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stack.sizing import SIZING
from tests.integration import test_health
from tests.integration.deployed import REQUIRE_ENV, DeployedStack, unavailable

INTEGRATION_DIR = Path(__file__).resolve().parent
REQUIRED_SUFFIX = f"({REQUIRE_ENV}=1: these checks must run)"
SKIPS = {"pytest.skip", "pytest.importorskip", "pytest.mark.skip", "pytest.mark.skipif"}


def outcome(check: Callable[[], object]) -> tuple[str, str]:
    """How pytest would report `check()`: ("skipped" | "failed" | "passed", message). A skip is
    caught too, so that a skip where a failure is due fails the test instead of skipping it."""
    try:
        check()
    except pytest.skip.Exception as skip:
        return "skipped", str(skip)
    except pytest.fail.Exception as failure:
        return "failed", str(failure)
    return "passed", ""


@pytest.mark.parametrize("value", [None, "", "0", "true", "yes"])
def test_a_missing_precondition_skips_unless_required(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(REQUIRE_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ENV, value)
    assert outcome(lambda: unavailable("no AWS credentials")) == ("skipped", "no AWS credentials")


@pytest.mark.parametrize("value", ["1", " 1 "])
def test_a_missing_precondition_fails_when_required(monkeypatch, value):
    monkeypatch.setenv(REQUIRE_ENV, value)
    assert outcome(lambda: unavailable("no AWS credentials")) == (
        "failed",
        f"no AWS credentials {REQUIRED_SUFFIX}",
    )


class CloudWatchWithDatapoints:
    """Stands in for `Aws`: a CloudWatch client in the secondary region returning `datapoints`."""

    def __init__(self, datapoints: list[dict[str, Any]]) -> None:
        self.datapoints = datapoints
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def client(self, service: str, region: str, **_: Any) -> CloudWatchWithDatapoints:
        self.requests.append((service, region, {}))
        return self

    def get_metric_statistics(self, **request: Any) -> dict[str, Any]:
        self.requests[-1][2].update(request)
        return {"Datapoints": self.datapoints}


def replication_lag_check(aws: CloudWatchWithDatapoints) -> None:
    """Run the post-deploy replication-lag check against `aws` (a dev-sized stack)."""
    health = test_health.HealthRun(
        writer_region="us-east-1",
        secondary_region="us-west-2",
        secondary_cluster_id="aurora-dr-cluster-usw2-dev",
        reports={},
    )
    deployed = DeployedStack(name="dev", outputs={}, sizing=SIZING["test"])
    test_health.test_replication_lag_is_under_the_alarm_threshold(health, deployed, aws)


def test_no_replication_lag_datapoints_skip_the_check_on_a_laptop(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    aws = CloudWatchWithDatapoints([])
    status, message = outcome(lambda: replication_lag_check(aws))
    assert status == "skipped"
    assert message == (
        "no AuroraGlobalDBReplicationLag datapoints for aurora-dr-cluster-usw2-dev in the last "
        "10 minutes"
    )
    ((service, region, request),) = aws.requests
    assert (service, region) == ("cloudwatch", "us-west-2")
    assert request["Dimensions"] == [
        {"Name": "DBClusterIdentifier", "Value": "aurora-dr-cluster-usw2-dev"}
    ]


def test_no_replication_lag_datapoints_fail_the_required_post_deploy_check(monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    status, message = outcome(lambda: replication_lag_check(CloudWatchWithDatapoints([])))
    assert status == "failed"
    assert message.startswith("no AuroraGlobalDBReplicationLag datapoints for ")
    assert message.endswith(REQUIRED_SUFFIX)


def test_the_replication_lag_check_reads_the_newest_datapoint(monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    threshold = SIZING["test"].replication_lag_threshold_ms
    now = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
    old_breach = {"Timestamp": now - dt.timedelta(minutes=5), "Maximum": threshold + 1}
    newest_ok = {"Timestamp": now, "Maximum": threshold}
    newest_within = CloudWatchWithDatapoints([newest_ok, old_breach])
    assert outcome(lambda: replication_lag_check(newest_within)) == ("passed", "")
    with pytest.raises(AssertionError, match="replication lag into us-west-2"):
        replication_lag_check(
            CloudWatchWithDatapoints([{**newest_ok, "Maximum": threshold + 1}, old_breach])
        )


def direct_skips(path: Path) -> list[str]:
    """`pytest.skip(...)`/`pytest.importorskip(...)` calls and skip marks in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and ast.unparse(node) in SKIPS:
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_post_deploy_checks_skip_only_through_deployed_unavailable():
    # GIVEN every module of the post-deploy checks
    modules = sorted(INTEGRATION_DIR.glob("*.py"))
    assert {p.name for p in modules} >= {"deployed.py", "test_health.py", "test_dns.py"}
    # THEN the only skip is the one inside `unavailable`, which becomes a failure when required
    skips = {p.name: direct_skips(p) for p in modules if p.name != Path(__file__).name}
    assert skips.pop("deployed.py") == [f"deployed.py:{skip_line()} pytest.skip"]
    assert [s for found in skips.values() for s in found] == []


def skip_line() -> int:
    """Line of the one `pytest.skip` in deployed.py: the last statement of `unavailable`."""
    tree = ast.parse((INTEGRATION_DIR / "deployed.py").read_text())
    (function,) = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "unavailable"
    ]
    return function.body[-1].lineno
