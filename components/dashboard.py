"""Dashboard: one CloudWatch dashboard with both regions side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from decisions import alarms
from stack.naming import physical_name


@dataclass(frozen=True)
class DashboardRegion:
    """One column of the dashboard."""

    region: str
    cluster_identifier: pulumi.Input[str]
    instance_identifiers: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class DashboardArgs:
    """Inputs of `Dashboard`."""

    environment_suffix: str
    regions: Sequence[DashboardRegion]


class Dashboard(pulumi.ComponentResource):
    """Replication and RPO lag, health metrics, CPU and connections of both regions."""

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Dashboard", name, None, opts)
        columns = pulumi.Output.all(
            *[
                pulumi.Output.all(r.cluster_identifier, *r.instance_identifiers)
                for r in args.regions
            ]
        )
        body = columns.apply(
            lambda resolved: json.dumps(
                alarms.dashboard_body(
                    args.environment_suffix,
                    [
                        (region.region, ids[0], ids[1:])
                        for region, ids in zip(args.regions, resolved, strict=True)
                    ],
                )
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=physical_name(args.environment_suffix, "dashboard"),
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})
