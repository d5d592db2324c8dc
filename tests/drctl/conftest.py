"""A fake stack for drctl: moto for DynamoDB, CloudWatch, SNS and S3; Stubber for
`describe_global_clusters` (moto has no FailoverState and no cross-region membership); a fake
Lambda that hands the coordinator's manual events to the coordinator's own parser."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from drctl import cli
from failover_coordinator.decision import Request, Trigger
from failover_coordinator.events import parse_event
from failover_coordinator.settings import Settings
from tests.lambdas.aws_fixtures import (
    ACCOUNT,
    DR,
    FAKE_AWS_ENV,
    GID,
    LOCK_TABLES,
    PRIMARY,
    REGION_CODES,
    TOPIC_NAMES,
    client,
    coordinator_env,
    mocked,
    topology,
)

# A fixed "now" (2027-01-15T08:00:00Z): metrics are put at and read around it.
NOW = 1_800_000_000.0
BUCKETS = {region: f"aurora-dr-backups-{code}-dev" for region, code in REGION_CODES.items()}


def function_arn(key: str, region: str) -> str:
    """The ARN of a DR function in the fake stack."""
    short = {"failover_coordinator": "coordinator", "health_checker": "health-checker"}[key]
    return (
        f"arn:aws:lambda:{region}:{ACCOUNT}:function:aurora-dr-{short}-{REGION_CODES[region]}-dev"
    )


def stack_outputs() -> dict[str, Any]:
    """What `pulumi stack output --json` prints for the fake stack."""
    keys = ("failover_coordinator", "health_checker")
    return {
        "primaryRegion": PRIMARY,
        "drRegion": DR,
        "globalClusterId": GID,
        "environmentSuffix": "dev",
        "functionArns": {k: {r: function_arn(k, r) for r in (PRIMARY, DR)} for k in keys},
        "lockTableNames": LOCK_TABLES,
        "primaryBackupBucket": BUCKETS[PRIMARY],
        "drBackupBucket": BUCKETS[DR],
        "primaryAlertTopicArn": f"arn:aws:sns:{PRIMARY}:{ACCOUNT}:{TOPIC_NAMES[PRIMARY]}",
        "drAlertTopicArn": f"arn:aws:sns:{DR}:{ACCOUNT}:{TOPIC_NAMES[DR]}",
    }


@dataclass
class FakeLambda:
    """`invoke` of the stack's functions: coordinator events go through its real parser."""

    world: World

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        payload = json.loads(Payload)
        region = FunctionName.split(":")[3]
        self.world.invocations.append((FunctionName, payload))
        if FunctionName == function_arn("failover_coordinator", region):
            request = parse_event(payload, Settings.from_env(coordinator_env(region)))
            assert isinstance(request, Request) and request.trigger is Trigger.MANUAL
            answer = self.world.coordinator(region, request)
        else:
            answer = self.world.checker(payload)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


def completed(region: str, request: Request) -> dict[str, Any]:
    """The coordinator's answer to a role change it made."""
    return {"status": "completed", "ok": True, "detail": f"{request.operation} to {region} done"}


@dataclass
class World:
    """The fake stack: outputs file, AWS as drctl sees it, the operator's answers."""

    outputs_file: Path
    topology_response: dict[str, Any] = field(default_factory=topology)
    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    answers: list[str | Callable[[str], str]] = field(default_factory=list)
    coordinator: Callable[[str, Request], dict[str, Any]] = completed
    checker: Callable[[dict[str, Any]], Any] = lambda payload: None
    time: float = NOW

    def factory(self, service: str, region: str, config: Any = None) -> Any:
        """drctl's client factory."""
        self.calls.append((service, region))
        if service == "lambda":
            return FakeLambda(self)
        made = client(service, region, config=config)
        if service == "rds":
            stubber = Stubber(made)
            for _ in range(3):
                stubber.add_response(
                    "describe_global_clusters",
                    self.topology_response,
                    {"GlobalClusterIdentifier": GID},
                )
            stubber.activate()
        return made

    def ask(self, question: str) -> str:
        """The operator's next answer (none left: end of input; a callable answers itself)."""
        if not self.answers:
            raise EOFError
        answer = self.answers.pop(0)
        return answer(question) if callable(answer) else answer

    def run(self, *argv: str) -> int:
        """`python -m drctl <argv> --outputs FILE`."""
        return cli.main([*argv, "--outputs", str(self.outputs_file)])

    def coordinator_events(self) -> list[tuple[str, dict[str, Any]]]:
        """(region, event) of every coordinator invocation."""
        return [
            (arn.split(":")[3], event)
            for arn, event in self.invocations
            if ":function:aurora-dr-coordinator" in arn
        ]


def _deploy(world: World) -> None:
    for region in (PRIMARY, DR):
        client("dynamodb", region).create_table(
            TableName=LOCK_TABLES[region],
            KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sns = client("sns", region)
        topic = sns.create_topic(Name=TOPIC_NAMES[region])["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
        s3 = client("s3", region)
        location = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=BUCKETS[region], **location)
        report_health(region)


def report_health(region: str, at: float = NOW - 60) -> None:
    """The region's health checker published WriterAvailable at `at`."""
    import datetime as dt

    client("cloudwatch", region).put_metric_data(
        Namespace="AuroraDR/Health",
        MetricData=[
            {
                "MetricName": "WriterAvailable",
                "Dimensions": [
                    {"Name": "Environment", "Value": "dev"},
                    {"Name": "ClusterRegion", "Value": region},
                ],
                "Timestamp": dt.datetime.fromtimestamp(at, dt.UTC),
                "Value": 1.0 if region == PRIMARY else 0.0,
                "Unit": "Count",
            }
        ],
    )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """GIVEN a deployed fake stack whose writer is the configured primary, all healthy."""
    from moto import mock_aws

    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # a drill's default results file lands here, not in the repository
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack_outputs()))
    state = World(outputs_file=outputs)
    runtime = cli.Runtime(
        factory=lambda: state.factory,
        time=lambda: state.time,
        sleep=lambda seconds: None,
        ask=state.ask,
        modeled=lambda stack: {"planned": 30.0, "unplanned": 90.0},
    )
    monkeypatch.setattr(cli, "RUNTIME", runtime)
    with mocked(mock_aws):
        _deploy(state)
        yield state
