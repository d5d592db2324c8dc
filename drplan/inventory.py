"""Pure summaries of a `PlanRun`: what the stack creates, per region and per component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drplan.harness import PlanRun, Registration

GLOBAL = "global"
# The region roles, as the stack outputs name them (`primaryRegion`, `drAlertSubscribers`, ...).
ROLES = ("primary", "dr")
# Input property that carries a resource's physical name, where it is not `name`.
NAME_PROPERTY_BY_TYPE = {
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:s3/bucket:Bucket": "bucket",
}


def physical_name(registration: Registration) -> str | None:
    """The name the resource gets in AWS, when the program sets one (else its Name tag)."""
    for prop in (NAME_PROPERTY_BY_TYPE.get(registration.type, "name"),):
        value = registration.inputs.get(prop)
        if isinstance(value, str) and value:
            return value
    tags = registration.inputs.get("tags")
    if isinstance(tags, dict) and isinstance(tags.get("Name"), str):
        return tags["Name"]
    return None


def region_label(registration: Registration) -> str:
    """Region of a resource; IAM and Route 53 are global services."""
    service = registration.type.split(":")[1].split("/")[0] if ":" in registration.type else ""
    if service in {"iam", "route53"}:
        return GLOBAL
    return registration.region or GLOBAL


@dataclass
class ComponentSummary:
    """Resources one component creates in one region."""

    component: str
    counts: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


@dataclass
class Inventory:
    """What a stack creates: per region, per component, counts by type and physical names."""

    stack: str
    regions: dict[str, dict[str, ComponentSummary]]
    totals: dict[str, int]
    outputs: dict[str, Any]
    secret_outputs: list[str]
    alert_subscribers: dict[str, list[str]] = field(default_factory=dict)
    """Region -> who its alert topic reaches, as the stack outputs show them (no secrets)."""

    @property
    def resource_count(self) -> int:
        """Number of cloud resources."""
        return sum(self.totals.values())


def build_inventory(run: PlanRun) -> Inventory:
    """Group the run's cloud resources by region, then by owning component."""
    regions: dict[str, dict[str, ComponentSummary]] = {}
    totals: dict[str, int] = {}
    for resource in run.resources:
        owner = run.component_of(resource)
        component = owner.name if owner else "(stack)"
        region = region_label(resource)
        summary = regions.setdefault(region, {}).setdefault(component, ComponentSummary(component))
        summary.counts[resource.type] = summary.counts.get(resource.type, 0) + 1
        name = physical_name(resource)
        if name:
            summary.names.append(name)
        totals[resource.type] = totals.get(resource.type, 0) + 1
    for components in regions.values():
        for summary in components.values():
            summary.counts = dict(sorted(summary.counts.items()))
            summary.names.sort()
    ordered = dict(sorted(regions.items(), key=lambda item: (item[0] == GLOBAL, item[0])))
    outputs = {
        key: ("[secret]" if key in run.secret_outputs else value)
        for key, value in run.outputs.items()
    }
    return Inventory(
        run.stack,
        ordered,
        dict(sorted(totals.items())),
        outputs,
        run.secret_outputs,
        alert_subscribers(run.outputs),
    )


def alert_subscribers(outputs: dict[str, Any]) -> dict[str, list[str]]:
    """Region -> the subscribers its Monitoring exports (`<role>AlertSubscribers`)."""
    return {
        outputs[f"{role}Region"]: list(outputs.get(f"{role}AlertSubscribers") or [])
        for role in ROLES
        if f"{role}Region" in outputs
    }


def short_type(type_token: str) -> str:
    """`aws:ec2/vpc:Vpc` -> `ec2:Vpc`, for tables."""
    if not type_token.startswith("aws:"):
        return type_token
    module = type_token.split(":")[1].split("/")[0]
    return f"{module}:{type_token.rsplit(':', 1)[-1]}"
