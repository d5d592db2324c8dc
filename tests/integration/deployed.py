"""Helpers of the post-deploy checks: the deployed stack's outputs, AWS clients, bounded polling.

The stack's outputs come from `pulumi stack output --json`.

`AURORA_DR_STACK` names the stack (default `dev`). Without AWS credentials, without the `pulumi`
CLI or without outputs for the stack, every test here is skipped with the reason, so `make test`
on a laptop or in the offline CI reports them as skipped. The deploy workflow sets
`AURORA_DR_REQUIRE_DEPLOYED=1`: there a missing precondition fails the run instead, because a
post-deploy check that silently skipped would pass a broken deployment.

Everything the tests do is read-only or dry-run: health checks (which only publish the metrics
the schedule publishes anyway), DNS lookups and coordinator dry runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import boto3
import pytest
from botocore.config import Config

from drcommon.topology import GlobalClusterSnapshot, GlobalMember, describe_global_cluster
from drplan.harness import load_stack_config
from stack.sizing import SIZING, Sizing

STACK_ENV = "AURORA_DR_STACK"
REQUIRE_ENV = "AURORA_DR_REQUIRE_DEPLOYED"
DEFAULT_STACK = "dev"
PROJECT_DIR = Path(__file__).resolve().parents[2]
PULUMI_TIMEOUT_SECONDS = 120

# Invocations wait for the function itself: the read timeout must outlast the function's own
# timeout (decisions.functions.FUNCTIONS) or botocore would retry, i.e. invoke it a second time.
HEALTH_CHECKER_READ_TIMEOUT = 45.0  # function timeout 30 s
COORDINATOR_READ_TIMEOUT = 320.0  # function timeout 300 s

T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip (or, when the deploy workflow requires these checks, fail) with `reason`."""
    if os.environ.get(REQUIRE_ENV, "").strip() == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: these checks must run)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class DeployedStack:
    """A deployed stack: its outputs and the sizing its configuration selects."""

    name: str
    outputs: dict[str, Any]
    sizing: Sizing

    def output(self, key: str) -> Any:
        """A stack output that must exist (a missing one is a broken deployment, not a skip)."""
        if key not in self.outputs:
            pytest.fail(
                f"stack {self.name!r} has no output {key!r} (outputs: {', '.join(sorted(self.outputs))})",
                pytrace=False,
            )
        return self.outputs[key]

    @property
    def regions(self) -> tuple[str, str]:
        """(primary region, DR region) as configured; who is the writer now is runtime state."""
        return self.output("primaryRegion"), self.output("drRegion")

    def function_arn(self, key: str, region: str) -> str:
        """ARN of DR function `key` (e.g. `health_checker`) in `region`."""
        by_region = self.output("functionArns").get(key) or {}
        if region not in by_region:
            pytest.fail(f"functionArns has no {key} in {region}: {by_region}", pytrace=False)
        return by_region[region]


class Aws:
    """boto3 clients with short timeouts and few retries: a hung API fails a test, not the job."""

    def __init__(self) -> None:
        self._session = boto3.Session()

    def client(self, service: str, region: str, *, read_timeout: float = 20.0) -> Any:
        """A client for `service` in `region`."""
        config = Config(
            connect_timeout=5,
            read_timeout=read_timeout,
            # Retries cover throttling (the coordinator has a reserved concurrency of 1).
            retries={"max_attempts": 3, "mode": "standard"},
        )
        return self._session.client(service, region_name=region, config=config)

    def invoke(self, function_arn: str, payload: dict[str, Any], *, read_timeout: float) -> Any:
        """Invoke a function synchronously and return its decoded answer; fail on a function error."""
        region = function_arn.split(":")[3]
        response = self.client("lambda", region, read_timeout=read_timeout).invoke(
            FunctionName=function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = json.loads(response["Payload"].read() or b"null")
        assert "FunctionError" not in response, f"{function_arn} failed on {payload}: {body}"
        return body

    def global_cluster(self, stack: DeployedStack) -> GlobalClusterSnapshot:
        """The global cluster as RDS reports it now (read in the configured primary region)."""
        rds = self.client("rds", stack.regions[0])
        return describe_global_cluster(rds, stack.output("globalClusterId"))

    def cluster_endpoint(self, member: GlobalMember) -> str:
        """The writer (cluster) endpoint of a member cluster, as RDS reports it."""
        rds = self.client("rds", member.region)
        (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=member.cluster_id)["DBClusters"]
        return cluster["Endpoint"]


def poll(call: Callable[[], T], done: Callable[[T], bool], *, attempts: int, interval: float) -> T:
    """`call()` until `done(result)` or `attempts` calls were made; returns the last result."""
    result = call()
    for _ in range(attempts - 1):
        if done(result):
            break
        time.sleep(interval)
        result = call()
    return result


def writer_of(snapshot: GlobalClusterSnapshot) -> GlobalMember:
    """The writer member of a settled global cluster (fails when there is none or it is moving)."""
    assert snapshot.failover_state is None, f"a global failover is running: {snapshot}"
    assert snapshot.writer is not None, f"no member holds the writer role: {snapshot}"
    return snapshot.writer


def read_outputs(stack: str) -> dict[str, Any]:
    """`pulumi stack output --json` of `stack` (secrets stay masked: none is needed here)."""
    command = ["pulumi", "stack", "output", "--json", "--stack", stack, "--non-interactive"]
    try:
        completed = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        unavailable(f"`{' '.join(command)}` did not answer in {PULUMI_TIMEOUT_SECONDS} s")
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["no error output"])[-1]
        unavailable(f"`{' '.join(command)}` failed: {detail}")
    try:
        outputs = json.loads(completed.stdout or "{}")
    except json.JSONDecodeError:
        pytest.fail(f"`{' '.join(command)}` printed no JSON: {completed.stdout[:200]!r}")
    if not outputs:
        unavailable(f"stack {stack!r} has no outputs (not deployed yet?)")
    return outputs


def load_deployed_stack() -> DeployedStack:
    """The stack under test, or a skip (a failure when required) naming what is missing."""
    stack = os.environ.get(STACK_ENV, "").strip() or DEFAULT_STACK
    missing = []
    if shutil.which("pulumi") is None:
        missing.append("the pulumi CLI is not on PATH")
    if boto3.Session().get_credentials() is None:
        missing.append("no AWS credentials")
    if missing:
        unavailable(
            f"post-deploy checks of stack {stack!r} need a deployed stack: {'; '.join(missing)}"
        )
    outputs = read_outputs(stack)
    # The same configuration read as the plan's, so the thresholds are those the alarms use.
    sizing_key = load_stack_config(stack, PROJECT_DIR)["aurora-dr:sizing"]
    return DeployedStack(name=stack, outputs=outputs, sizing=SIZING[sizing_key])
