"""The DR functions as data: where each runs, how big it is, what its VPC must offer, and the
small pure helpers the automation's wiring needs (schedules, ARNs known before a function exists,
the alarm pattern that wakes a coordinator). What each function may call is `decisions.iam`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stack.roles import DR, PRIMARY, Role

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"


@dataclass(frozen=True)
class FunctionSpec:
    """One DR function: package, size, placement and network needs."""

    key: str
    """Package folder under lambdas/; the handler is `<key>.handler.lambda_handler`."""
    short_name: str
    """Used in physical names: aurora-dr-<short_name>-<region code>-<suffix>."""
    timeout_seconds: int
    memory_mb: int
    roles: tuple[Role, ...]
    """Regions by role the function is deployed in."""
    vpc: bool
    """Attached to the private subnets (it opens database connections)."""
    endpoint_services: tuple[str, ...] = ()
    """Interface VPC endpoints its AWS calls need in its own VPC (no NAT gateway)."""
    max_async_retries: int = 2

    @property
    def handler(self) -> str:
        """The Lambda handler string."""
        return f"{self.key}.handler.lambda_handler"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    # Not attached to a VPC: it opens no database connection and must reach the *other*
    # region's APIs (alarms, drainer) and RDS when the primary region's network is gone. This is
    # the one deliberate exception to "Lambda functions should be in a VPC".
    FunctionSpec(
        key="failover_coordinator",
        short_name="coordinator",
        timeout_seconds=300,
        memory_mb=512,
        roles=(PRIMARY, DR),
        vpc=False,
        # A failed failover is reported, never repeated blindly by Lambda's async retries.
        max_async_retries=0,
    ),
    FunctionSpec(
        key="connection_drainer",
        short_name="drainer",
        timeout_seconds=60,
        memory_mb=256,
        roles=(PRIMARY, DR),
        vpc=True,
        endpoint_services=("secretsmanager",),
    ),
    FunctionSpec(
        key="health_checker",
        short_name="health-checker",
        timeout_seconds=30,
        memory_mb=256,
        roles=(PRIMARY, DR),
        vpc=True,
        # Its only AWS call is the secret read: the writer's role and the metrics are the peer
        # watch's health run's, outside the VPC, which invokes it for the SQL probes.
        endpoint_services=("secretsmanager",),
        max_async_retries=0,
    ),
    # Not attached to a VPC: it calls AWS APIs only (the health checker's SQL probes are invoked,
    # the peer region's RDS API must answer or be seen not to, the health metrics are published
    # here), so it needs no endpoint and runs when the peer region's network is gone. Invoked
    # synchronously by its ticker, every tick; its health run once a minute by the schedule.
    FunctionSpec(
        key="peer_watch",
        short_name="peer-watch",
        timeout_seconds=30,
        memory_mb=128,
        roles=(PRIMARY, DR),
        vpc=False,
        # A missed minute is replaced by the next scheduled run.
        max_async_retries=0,
    ),
    FunctionSpec(
        key="secret_rotation",
        short_name="secret-rotation",
        timeout_seconds=300,
        memory_mb=512,
        roles=(PRIMARY,),
        vpc=True,
        # Secrets Manager must reach it, and it Secrets Manager ("If the VPC ... doesn't have an
        # internet access, then you must configure the VPC with a private service endpoint for
        # Secrets Manager", Secrets Manager User Guide, rotation network access). The writer is
        # the secret's host (the global writer endpoint): no RDS API.
        endpoint_services=("secretsmanager",),
    ),
    FunctionSpec(
        key="backup_verifier",
        short_name="backup-verifier",
        timeout_seconds=900,
        memory_mb=1024,
        roles=(DR,),
        # Not attached to a VPC: RDS of both regions, S3, SNS and CloudWatch are APIs, reached
        # with no endpoint from outside a VPC; the restore test's SQL probe is the region's
        # health checker's (invoked with the host and port only).
        vpc=False,
    ),
)
FUNCTIONS_BY_KEY: Mapping[str, FunctionSpec] = {f.key: f for f in FUNCTIONS}


def functions_in(role: Role) -> tuple[str, ...]:
    """Keys of the functions deployed in the region with this role, in table order."""
    return tuple(f.key for f in FUNCTIONS if role in f.roles)


def endpoint_services_for(role: Role) -> tuple[str, ...]:
    """Interface endpoints a region's VPC needs for the functions placed there (sorted)."""
    needed = {s for f in FUNCTIONS if role in f.roles and f.vpc for s in f.endpoint_services}
    return tuple(sorted(needed))


def rate_expression(value: int, unit: str) -> str:
    """EventBridge rate expression: `rate(1 minute)`, `rate(24 hours)`."""
    if value < 1:
        raise ValueError(f"a schedule rate must be at least 1 {unit}, got {value}")
    return f"rate({value} {unit if value == 1 else unit + 's'})"


def function_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """ARN of a Lambda function by name (known before the function exists, which breaks the
    cycle between the health checker paging the coordinator and the coordinator probing it)."""
    return f"arn:{partition}:lambda:{region}:{account_id}:function:{name}"


def alarm_state_change_pattern(alarm_arn: str) -> dict[str, Any]:
    """EventBridge pattern: this alarm entered ALARM."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [alarm_arn],
        "detail": {"state": {"value": ["ALARM"]}},
    }
