"""FailoverDns: a private zone with writer/reader failover records driven by health alarms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stack.naming import regional_name

# Route 53's health checkers cannot reach private endpoints, so every check here is a
# CLOUDWATCH_METRIC check on an alarm fed by the in-VPC health checker. Insufficient data (a new
# alarm, or a silent region) counts as unhealthy, like the alarm's own missing-data rule.
INSUFFICIENT_DATA_STATUS = "Unhealthy"
MAX_TTL_SECONDS = 60


@dataclass(frozen=True)
class FailoverTarget:
    """One side of a failover pair: an endpoint and the alarm that vouches for it."""

    region: str
    endpoint: pulumi.Input[str]
    alarm_name: pulumi.Input[str]


@dataclass(frozen=True)
class FailoverRecord:
    """A `<label>.<zone>` record pair: PRIMARY first, SECONDARY second."""

    label: str
    primary: FailoverTarget
    secondary: FailoverTarget


@dataclass(frozen=True)
class ZoneVpc:
    """A VPC the private zone is associated with."""

    vpc_id: pulumi.Input[str]
    region: str


@dataclass(frozen=True)
class FailoverDnsArgs:
    """Inputs of `FailoverDns`."""

    environment_suffix: str
    zone_name: str
    vpcs: Sequence[ZoneVpc]
    records: Sequence[FailoverRecord]
    ttl_seconds: int


class FailoverDns(pulumi.ComponentResource):
    """Private hosted zone `<suffix>.<dnsZoneName>` associated with both VPCs, and failover CNAME
    pairs whose health checks watch CloudWatch alarms. After a switchover, a managed failover or a
    detach-and-promote the alarms flip and the records follow, with no record rewrite."""

    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:FailoverDns", name, None, opts)
        if not 0 < args.ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"failover TTL must be 1-{MAX_TTL_SECONDS} s, got {args.ttl_seconds}")
        child = pulumi.ResourceOptions(parent=self)
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=args.zone_name,
            comment=f"aurora-dr {args.environment_suffix}: database endpoints that follow the writer",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=v.vpc_id, vpc_region=v.region) for v in args.vpcs],
            # Only the failover records live here and the stack owns them all.
            force_destroy=True,
            opts=child,
        )
        self.names: dict[str, str] = {}
        for record in args.records:
            fqdn = f"{record.label}.{args.zone_name}"
            self.names[record.label] = fqdn
            for failover, target in (("PRIMARY", record.primary), ("SECONDARY", record.secondary)):
                role = failover.lower()
                check_name = regional_name(
                    args.environment_suffix, target.region, record.label, "check"
                )
                health_check = aws.route53.HealthCheck(
                    f"{name}-{record.label}-{role}-check",
                    type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=target.alarm_name,
                    cloudwatch_alarm_region=target.region,
                    insufficient_data_health_status=INSUFFICIENT_DATA_STATUS,
                    tags={"Name": check_name},
                    opts=child,
                )
                aws.route53.Record(
                    f"{name}-{record.label}-{role}",
                    zone_id=self.zone.zone_id,
                    name=fqdn,
                    type="CNAME",
                    ttl=args.ttl_seconds,
                    records=[target.endpoint],
                    set_identifier=f"{record.label}-{role}-{target.region}",
                    failover_routing_policies=[
                        aws.route53.RecordFailoverRoutingPolicyArgs(type=failover)
                    ],
                    health_check_id=health_check.id,
                    opts=child,
                )
        self.register_outputs({"zoneId": self.zone.zone_id, "zoneName": self.zone.name})
