"""FailoverDns: a private zone with writer/reader failover records driven by health alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.global_aurora import AuroraMember
from lambdas.drcommon import contract
from stack.naming import Namer
from stack.regions import Region
from stack.roles import Pair

# Route 53's health checkers cannot reach private endpoints, so every check here is a
# CLOUDWATCH_METRIC check on an alarm fed by the in-VPC health checker. Insufficient data (a new
# alarm, or a silent region) counts as unhealthy, like the alarm's own missing-data rule.
INSUFFICIENT_DATA_STATUS = "Unhealthy"
MAX_TTL_SECONDS = 60
# Each record pair, and the health metric whose alarm vouches for a region's side of it.
RECORD_HEALTH = {"writer": contract.WRITER_AVAILABLE, "reader": contract.READER_AVAILABLE}


@dataclass(frozen=True)
class FailoverTarget:
    """One side of a failover pair: an endpoint and the alarm that vouches for it."""

    region: Region
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
    region: Region


@dataclass(frozen=True)
class FailoverDnsArgs:
    """Inputs of `FailoverDns`."""

    region: Region
    """The region the (global) Route 53 resources are declared through."""
    namer: Namer
    zone_name: str
    ttl_seconds: int
    vpcs: Sequence[ZoneVpc]
    records: Sequence[FailoverRecord]


def failover_records(
    members: Pair[AuroraMember], health_alarms: Pair[Mapping[str, aws.cloudwatch.MetricAlarm]]
) -> list[FailoverRecord]:
    """`writer` (cluster endpoints) and `reader` (reader endpoints) pairs: PRIMARY is the primary
    region's member, SECONDARY the DR member, each vouched for by its region's health alarm."""

    def target(label: str, member: AuroraMember) -> FailoverTarget:
        cluster = member.cluster
        endpoint = cluster.endpoint if label == "writer" else cluster.reader_endpoint
        alarm = health_alarms[member.region.role][RECORD_HEALTH[label].name]
        return FailoverTarget(region=member.region, endpoint=endpoint, alarm_name=alarm.name)

    return [
        FailoverRecord(label, target(label, members.primary), target(label, members.dr))
        for label in RECORD_HEALTH
    ]


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
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=args.zone_name,
            comment=f"aurora-dr {args.namer.suffix}: database endpoints that follow the writer",
            vpcs=[
                aws.route53.ZoneVpcArgs(vpc_id=v.vpc_id, vpc_region=v.region.name)
                for v in args.vpcs
            ],
            # Only the failover records live here and the stack owns them all.
            force_destroy=True,
            opts=self._child,
        )
        self.names: dict[str, str] = {}
        for record in args.records:
            self.names[record.label] = f"{record.label}.{args.zone_name}"
            self._record(record, "PRIMARY", record.primary)
            self._record(record, "SECONDARY", record.secondary)
        self.register_outputs({"zoneId": self.zone.zone_id, "zoneName": self.zone.name})

    def exports(self) -> dict[str, pulumi.Input[str]]:
        """Stack outputs: the zone, and `<label>DnsName` of each record pair."""
        return {
            "privateZoneId": self.zone.zone_id,
            "privateZoneName": self.zone.name,
            **{f"{label}DnsName": fqdn for label, fqdn in self.names.items()},
        }

    def _record(self, record: FailoverRecord, failover: str, target: FailoverTarget) -> None:
        """One side of a pair: a health check on the target's alarm, and the record it gates."""
        logical = f"{self._name}-{record.label}-{failover.lower()}"
        health_check = aws.route53.HealthCheck(
            f"{logical}-check",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=target.alarm_name,
            cloudwatch_alarm_region=target.region.name,
            insufficient_data_health_status=INSUFFICIENT_DATA_STATUS,
            tags={"Name": self._args.namer.regional(target.region.name, record.label, "check")},
            opts=self._child,
        )
        aws.route53.Record(
            logical,
            zone_id=self.zone.zone_id,
            name=self.names[record.label],
            type="CNAME",
            ttl=self._args.ttl_seconds,
            records=[target.endpoint],
            set_identifier=f"{record.label}-{failover.lower()}-{target.region.name}",
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=failover)],
            health_check_id=health_check.id,
            opts=self._child,
        )
