"""What differs between two stacks' inventories, and the configuration that explains it.

`--compare` shows this instead of two whole plans: per region role (primary, DR, global), the
resource types whose counts differ, each with the knobs that drive that count and differ between
the stacks; then every sizing knob and setting that differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass

from drplan.inventory import GLOBAL, Inventory
from drplan.review import StackReview
from stack.config import StackSettings
from stack.sizing import SIZING

# What decides how many resources of a type the program declares (every other knob changes
# properties only): sizing knobs by field name, settings by config key. `--compare` gives these
# as the reason a count differs.
COUNT_DRIVERS: Mapping[str, tuple[str, ...]] = {
    # one instance per position, and the per-instance alarms with it
    "aws:rds/clusterInstance:ClusterInstance": ("instances_per_region",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("instances_per_region",),
    # one subnet (and its route-table association) per availability zone
    "aws:ec2/subnet:Subnet": ("az_count",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("az_count",),
    # the enhanced-monitoring role exists only when the interval is above 0, AWS Backup's role
    # only with a plan, the snapshot-export role (and its policy) only when the sizing exports,
    # the peer watch ticker's two roles and policies per region only when the sizing runs it
    "aws:iam/role:Role": (
        "monitoring_interval_seconds",
        "aws_backup",
        "snapshot_export_every_days",
        "peer_watch_ticker",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("snapshot_export_every_days", "peer_watch_ticker"),
    # the ticker's state machine, and the schedule target that starts it, per region
    "aws:sfn/stateMachine:StateMachine": ("peer_watch_ticker",),
    "aws:cloudwatch/eventTarget:EventTarget": ("peer_watch_ticker",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("aws_backup",),
    # a vault, its lock, a plan and a selection per region when the sizing has an AWS Backup plan
    "aws:backup/vault:Vault": ("aws_backup",),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": ("aws_backup",),
    "aws:backup/plan:Plan": ("aws_backup",),
    "aws:backup/selection:Selection": ("aws_backup",),
    # a subscription per region for each of alertEmail and alertHttpsEndpoint that is set
    "aws:sns/topicSubscription:TopicSubscription": ("alertEmail", "alertHttpsEndpoint"),
    # Security Hub's six interface endpoints per VPC, when complianceEndpoints is true
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("complianceEndpoints",),
}
# Settings compared between stacks (config key -> StackSettings field); the suffix and the tags
# always differ and explain no count.
COMPARED_SETTINGS: Mapping[str, str] = {
    "primaryRegion": "primary_region",
    "drRegion": "dr_region",
    "primaryVpcCidr": "primary_vpc_cidr",
    "drVpcCidr": "dr_vpc_cidr",
    "engineVersion": "engine_version",
    "alertEmail": "alert_email",
    "alertHttpsEndpoint": "alert_https_endpoint",
    "dnsZoneName": "dns_zone_name",
    "rtoTargetSeconds": "rto_target_seconds",
    "complianceEndpoints": "compliance_endpoints",
}


@dataclass(frozen=True)
class CountDifference:
    """One resource type whose count differs, in one region role."""

    where: str
    """`primary`, `dr` or `global`."""
    type: str
    counts: tuple[int, ...]
    """Count per stack, in the order compared."""
    because: tuple[str, ...]
    """The drivers of this count that differ, e.g. `instances_per_region: 1 -> 2`."""


@dataclass(frozen=True)
class KnobDifference:
    """A sizing knob or setting with different values."""

    knob: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StackDifference:
    """Everything `--compare` says differs."""

    stacks: tuple[str, ...]
    counts: tuple[CountDifference, ...]
    knobs: tuple[KnobDifference, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def knob_text(value: object) -> str:
    """A knob's value as a reader compares it: a structured knob (a dataclass) as its set fields,
    an AWS Backup plan as its rule names, not Python's repr."""
    if value is None:
        return "none"
    if is_dataclass(value) and not isinstance(value, type):
        rules = getattr(value, "rules", None)
        if rules is not None:
            return "rules " + ", ".join(rule.name for rule in rules)
        parts = [f"{f.name}={getattr(value, f.name)}" for f in fields(value)]
        return ", ".join(p for p in parts if not p.endswith("=None")) or "none"
    return str(value)


def knob_values(settings: StackSettings) -> dict[str, str]:
    """Every sizing knob (field name) and compared setting (config key) as text."""
    values = {
        f.name: knob_text(getattr(SIZING[settings.sizing], f.name))
        for f in fields(SIZING[settings.sizing])
    }
    for key, attribute in COMPARED_SETTINGS.items():
        value = getattr(settings, attribute)
        shown_as_set = key in ("alertEmail", "alertHttpsEndpoint")
        values[key] = ("set" if value else "unset") if shown_as_set else str(value)
    return values


def counts_by_role(inventory: Inventory) -> dict[tuple[str, str], int]:
    """(role, type) -> count, the role being `primary`, `dr` or `global`."""
    roles = {
        inventory.outputs.get("primaryRegion"): "primary",
        inventory.outputs.get("drRegion"): "dr",
        GLOBAL: GLOBAL,
    }
    counts: dict[tuple[str, str], int] = {}
    for region, components in inventory.regions.items():
        role = roles.get(region, region)
        for summary in components.values():
            for type_, count in summary.counts.items():
                counts[(role, type_)] = counts.get((role, type_), 0) + count
    return counts


def difference(
    reviews: Sequence[StackReview], settings: Sequence[StackSettings]
) -> StackDifference:
    """Compare the stacks' inventories and knobs (`settings[i]` belongs to `reviews[i]`)."""
    values = [knob_values(s) for s in settings]
    knobs = tuple(
        KnobDifference(knob, tuple(v[knob] for v in values))
        for knob in values[0]
        if len({v[knob] for v in values}) > 1
    )
    differing = {k.knob: k for k in knobs}
    per_stack = [counts_by_role(r.inventory) for r in reviews]
    order = {"primary": 0, "dr": 1, GLOBAL: 2}
    keys = sorted({key for c in per_stack for key in c}, key=lambda k: (order.get(k[0], 3), k))
    counts = []
    for where, type_ in keys:
        numbers = tuple(c.get((where, type_), 0) for c in per_stack)
        if len(set(numbers)) == 1:
            continue
        because = tuple(
            f"{knob}: {' -> '.join(differing[knob].values)}"
            for knob in COUNT_DRIVERS.get(type_, ())
            if knob in differing
        )
        counts.append(CountDifference(where, type_, numbers, because))
    return StackDifference(tuple(r.stack for r in reviews), tuple(counts), knobs)
