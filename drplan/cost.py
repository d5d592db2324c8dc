"""Monthly cost estimate of a stack, from what the program registers and one price file.

Resources are priced per type (`drplan/data/prices.json`); usage that no resource carries
(storage, I/O, logs, Lambda compute, custom metrics) is priced from the usage assumptions stated
in the same file. A registered type that is neither priced nor declared free is listed as
unpriced, never skipped, and makes `--check` fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drplan.harness import PlanRun, Registration
from drplan.inventory import GLOBAL, physical_name, region_label
from lambdas.drcommon import contract

PRICES_FILE = Path(__file__).resolve().parent / "data" / "prices.json"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
SECONDS_PER_MONTH = 730 * 3600
# Resources priced at a flat monthly rate each: type -> (item, unit, price key). Route 53 is a
# global service.
FLAT_MONTHLY: Mapping[str, tuple[str, str, str]] = {
    "aws:kms/key:Key": ("KMS keys", "keys", "kms_key_month"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "CloudWatch alarms",
        "alarms",
        "alarm_standard_month",
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        "CloudWatch dashboards",
        "dashboards",
        "dashboard_month",
    ),
    "aws:route53/zone:Zone": ("Route 53 hosted zones", "zones", "route53_zone_month"),
    "aws:route53/healthCheck:HealthCheck": (
        "Route 53 health checks",
        "checks",
        "route53_health_check_month",
    ),
}
# Resources whose price follows their use (`_Pricer.usage_priced`).
USAGE_PRICED = frozenset(
    {
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:lambda/function:Function",
        "aws:dynamodb/table:Table",
        "aws:sns/topic:Topic",
    }
)


@dataclass(frozen=True)
class CostLine:
    """One line of the estimate."""

    region: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    price_key: str

    @property
    def monthly(self) -> float:
        """Monthly cost of the line."""
        return self.quantity * self.unit_price


@dataclass
class CostReport:
    """The estimate: priced lines, unpriced resources, assumptions used."""

    stack: str
    sizing: str
    lines: list[CostLine] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)

    def total(self, region: str | None = None) -> float:
        """Monthly total, for one region or the whole stack."""
        return sum(line.monthly for line in self.lines if region in (None, line.region))

    def regions(self) -> list[str]:
        """Regions with at least one line, `global` last."""
        return sorted({line.region for line in self.lines}, key=lambda r: (r == GLOBAL, r))

    def by_item(self, region: str) -> dict[str, float]:
        """Monthly cost per item (resource type or usage) in one region."""
        totals: dict[str, float] = {}
        for line in self.lines:
            if line.region == region:
                totals[line.item] = totals.get(line.item, 0.0) + line.monthly
        return totals


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    """The price file, parsed."""
    return json.loads(path.read_text())


def schedule_seconds(expression: str) -> int | None:
    """Interval of an EventBridge `rate(...)` expression in seconds (None for anything else)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def function_schedules(run: PlanRun) -> dict[str, int]:
    """Registered function ARN -> schedule interval (seconds), from schedule rules + targets."""
    rules = {
        r.inputs.get("name"): schedule_seconds(r.inputs["scheduleExpression"])
        for r in run.of_type("aws:cloudwatch/eventRule:EventRule")
        if "scheduleExpression" in r.inputs
    }
    schedules: dict[str, int] = {}
    for target in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        seconds = rules.get(target.inputs.get("rule"))
        if seconds:
            schedules[target.inputs["arn"]] = seconds
    return schedules


class _Pricer:
    def __init__(self, run: PlanRun, sizing: str, prices: Mapping[str, Any]) -> None:
        self.run, self.prices = run, prices
        self.report = CostReport(stack=run.stack, sizing=sizing)
        self.usage = prices["usage_assumptions"].get(sizing)
        self.hours = prices["hours_per_month"]

    def price(self, region: str, key: str, variant: str | None = None) -> float | None:
        table = self.prices["global"] if region == GLOBAL else self.prices["regions"].get(region)
        if table is None or key not in table:
            return None
        value = table[key]
        if variant is not None:
            return value.get(variant) if isinstance(value, dict) else None
        return value

    def add(
        self, region: str, item: str, quantity: float, unit: str, key: str, what: str, variant=None
    ) -> bool:
        unit_price = self.price(region, key, variant)
        if unit_price is None:
            self.report.unpriced.append(
                f"{what} ({region}: no '{key}' price{f' for {variant}' if variant else ''})"
            )
            return False
        self.report.lines.append(CostLine(region, item, quantity, unit, unit_price, key))
        return True

    # -- resources -------------------------------------------------------------------------------
    def resource(self, resource: Registration) -> None:
        region, type_ = region_label(resource), resource.type
        what = f"{type_} {physical_name(resource) or resource.name}"
        if type_ in FLAT_MONTHLY:
            item, unit, key = FLAT_MONTHLY[type_]
            self.add(
                GLOBAL if type_.startswith("aws:route53/") else region, item, 1, unit, key, what
            )
        elif type_ == "aws:rds/clusterInstance:ClusterInstance":
            instance_class = resource.inputs.get("instanceClass", "?")
            self.add(
                region,
                f"Aurora {instance_class}",
                self.hours,
                "instance-hours",
                "aurora_instance_hour",
                what,
                instance_class,
            )
        elif type_ == "aws:secretsmanager/secret:Secret":
            self.add(region, "Secrets Manager secrets", 1, "secrets", "secret_month", what)
            for replica in resource.inputs.get("replicas") or []:
                self.add(
                    replica["region"],
                    "Secrets Manager secrets",
                    1,
                    "secrets (replica)",
                    "secret_month",
                    f"{what} replica",
                )
        elif type_ in USAGE_PRICED:
            self.usage_priced(resource, region, what)
        elif type_ not in self.prices["no_charge"]:
            self.report.unpriced.append(f"{what} ({region}: type not in the price file)")

    def usage_priced(self, resource: Registration, region: str, what: str) -> None:
        """Resources whose price follows their (registered or assumed) use."""
        type_ = resource.type
        if type_ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            azs = len(resource.inputs.get("subnetIds") or []) or 1
            self.add(
                region,
                "Interface VPC endpoints",
                azs * self.hours,
                "endpoint-AZ-hours",
                "interface_endpoint_az_hour",
                what,
            )
        elif type_ == "aws:lambda/function:Function":
            self.function(resource, region, what)
        elif type_ == "aws:dynamodb/table:Table":
            writes = self.usage["lock_table_writes_per_month"] / 1e6 if self.usage else 0
            self.add(
                region,
                "DynamoDB (lock table)",
                writes,
                "million writes (assumed)",
                "dynamodb_write_request_million",
                what,
            )
        elif type_ == "aws:sns/topic:Topic":
            publishes = self.usage["sns_publishes_per_month"] / 1e6 if self.usage else 0
            self.add(
                region, "SNS", publishes, "million publishes (assumed)", "sns_publish_million", what
            )

    def function(self, resource: Registration, region: str, what: str) -> None:
        interval = self.schedules.get(resource.outputs.get("arn", ""))
        key = resource.inputs["handler"].split(".", 1)[0]
        durations = (self.usage or {}).get("lambda_average_duration_seconds", {})
        if interval:
            invocations = SECONDS_PER_MONTH / interval
        elif key == "secret_rotation":
            invocations = 4 * 30 / 30  # four steps per rotation, about once a month
        else:
            invocations = 0  # event-driven: only during incidents and drills
        memory_gb = resource.inputs.get("memorySize", 128) / 1024
        seconds = durations.get(key, 1)
        self.add(
            region,
            "Lambda requests",
            invocations / 1e6,
            "million requests",
            "lambda_request_million",
            what,
        )
        self.add(
            region,
            "Lambda compute (arm64)",
            invocations * seconds * memory_gb,
            "GB-seconds",
            "lambda_arm_gb_second",
            what,
        )

    # -- usage not carried by a resource -------------------------------------------------------
    def usage_lines(self) -> None:
        if self.usage is None:
            self.report.unpriced.append(
                f"usage (no usage assumptions for sizing {self.report.sizing!r})"
            )
            return
        self.report.assumptions = {
            k: v for k, v in self.usage.items() if k != "lambda_average_duration_seconds"
        }
        self.database_usage(self.usage)
        self.log_usage(self.usage)
        self.metric_usage()

    def database_usage(self, u: Mapping[str, Any]) -> None:
        """Storage, I/O and logs of every cluster; replicated writes into the secondaries."""
        clusters = self.run.of_type("aws:rds/cluster:Cluster")
        for cluster in clusters:
            region = region_label(cluster)
            what = f"storage of {physical_name(cluster)}"
            # Every region of a global database stores a full copy.
            self.add(
                region,
                "Aurora storage",
                u["aurora_storage_gb"],
                "GB-month (assumed)",
                "aurora_storage_gb_month",
                what,
            )
            self.add(
                region,
                "Aurora I/O",
                u["aurora_io_million_per_month"] / len(clusters),
                "million I/Os (assumed)",
                "aurora_io_million",
                what,
            )
            self.add(
                region,
                "Database logs",
                u["database_log_gb_per_cluster_month"],
                "GB ingested (assumed)",
                "logs_ingest_gb",
                what,
            )
        secondaries = [c for c in clusters if "masterUsername" not in c.inputs]
        for cluster in secondaries:
            self.add(
                region_label(cluster),
                "Aurora replicated write I/O",
                u["replicated_write_io_million_per_month"],
                "million I/Os (assumed)",
                "aurora_replicated_write_io_million",
                f"replication into {physical_name(cluster)}",
            )

    def log_usage(self, u: Mapping[str, Any]) -> None:
        """Flow-log and function-log ingestion, and log storage per region."""
        for vpc in self.run.of_type("aws:ec2/flowLog:FlowLog"):
            self.add(
                region_label(vpc),
                "VPC flow logs",
                u["flow_log_gb_per_vpc_month"],
                "GB ingested (assumed)",
                "logs_ingest_gb",
                "flow logs",
            )
        for fn in self.run.of_type("aws:lambda/function:Function"):
            self.add(
                region_label(fn),
                "Lambda logs",
                u["lambda_log_gb_per_function_month"],
                "GB ingested (assumed)",
                "logs_ingest_gb",
                f"logs of {fn.inputs.get('name')}",
            )
        regions = sorted({region_label(r) for r in self.run.resources} - {GLOBAL})
        for region in regions:
            self.add(
                region,
                "Log storage",
                u["log_storage_gb_per_region"],
                "GB-month (assumed)",
                "logs_storage_gb_month",
                "log storage",
            )

    def metric_usage(self) -> None:
        """The health contract's custom metrics, published by each region's health checker."""
        checker_regions = sorted(
            region_label(f)
            for f in self.run.of_type("aws:lambda/function:Function")
            if f.inputs["handler"].startswith("health_checker.")
        )
        for region in checker_regions:
            self.add(
                region,
                "Custom metrics (health contract)",
                len(contract.ALL_METRICS),
                "metrics",
                "custom_metric_month",
                "health metrics",
            )

    def estimate(self) -> CostReport:
        self.schedules = function_schedules(self.run)
        for resource in self.run.resources:
            self.resource(resource)
        self.usage_lines()
        return self.report


def estimate_cost(run: PlanRun, sizing: str, prices: Mapping[str, Any] | None = None) -> CostReport:
    """Monthly cost of everything `run` registered, priced with `prices` (default: the file)."""
    return _Pricer(run, sizing, prices or load_prices()).estimate()
