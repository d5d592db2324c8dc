"""Dashboard: one CloudWatch dashboard with both regions side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.global_aurora import AuroraMember
from decisions import dashboard
from stack.naming import Namer
from stack.regions import Region
from stack.roles import Pair
from stack.sizing import Sizing


@dataclass(frozen=True)
class DashboardArgs:
    """Inputs of `Dashboard`."""

    region: Region
    """The region the (global) dashboard is declared through."""
    namer: Namer
    members: Pair[AuroraMember]
    """One column per member cluster, primary first."""
    sizing: Sizing
    """Its `serverless` bounds, when set, give the instances' capacity a row."""


class Dashboard(pulumi.ComponentResource):
    """Both regions side by side: replication and RPO lag, health metrics, commits,
    connections, CPU, backup verification and snapshot age, failover history
    (`decisions.dashboard`)."""

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Dashboard", name, None, opts)
        members = list(args.members)
        columns = pulumi.Output.all(
            *[
                pulumi.Output.all(
                    m.cluster.cluster_identifier, *(i.identifier for i in m.instances)
                )
                for m in members
            ]
        )
        body = columns.apply(
            lambda resolved: json.dumps(
                dashboard.dashboard_body(
                    args.namer.suffix,
                    [
                        dashboard.DashboardColumn(
                            member.region.name, member.region.role, ids[0], ids[1:]
                        )
                        for member, ids in zip(members, resolved, strict=True)
                    ],
                    serverless=args.sizing.serverless is not None,
                )
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.namer.name("dashboard"),
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self, provider=args.region.provider),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `dashboardName`."""
        return {"dashboardName": self.dashboard_name}
