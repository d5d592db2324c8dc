"""Monthly cost estimate of a stack, from what the program registers and one price file.

Resources are priced per type (`drplan/data/prices.json`); usage that no resource carries
(storage, I/O, logs, Lambda compute, custom metrics) is priced from the usage assumptions stated
in the same file. A registered type that is neither priced nor declared free is listed as
unpriced, never skipped, and makes `--check` fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drplan.backup_cost import BackupPricer
from drplan.harness import PlanRun, Registration
from drplan.inventory import GLOBAL, physical_name, region_label
from drplan.ticker import SECONDS_PER_MONTH, Ticker, env, schedule_seconds, schedules, tickers
from lambdas.drcommon import contract
from lambdas.drcommon.contract import WatchEnv

__all__ = ["CostLine", "CostReport", "estimate_cost", "load_prices", "schedule_seconds"]

PRICES_FILE = Path(__file__).resolve().parent / "data" / "prices.json"
# Aurora Serverless v2's instance class. Its instances are billed per ACU-hour of the capacity
# they hold; the plan prices the configured minimum, a floor and not a forecast (a global
# database holds capacity above it; the serverless-capacity alarm says by how much).
SERVERLESS_CLASS = "db.serverless"
# The ticker's memory, as billed: "billed in 64-MB chunks", and its state is far below one
# chunk (50 MB + definition + execution data; AWS Step Functions pricing, Express Workflows).
EXPRESS_BILLED_MEMORY_GB = 64 / 1024
# A function that registers no memory has Lambda's default: "The default setting, 128 MB, is the
# lowest possible setting" (AWS Lambda Developer Guide, Configure Lambda function memory,
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
LAMBDA_DEFAULT_MEMORY_MB = 128
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
        "aws:sfn/stateMachine:StateMachine",
        # Priced by drplan.backup_cost: storage, exports, replication, recovery points, copies.
        "aws:s3/bucket:Bucket",
        "aws:backup/plan:Plan",
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

    @property
    def partial(self) -> bool:
        """True when something could not be priced: the total is then a lower bound."""
        return bool(self.unpriced)

    def headline(self, money: Callable[[float], str]) -> str:
        """The total as a headline says it: `$1.00`, or `partial: at least $1.00 (2 lines
        unpriced)` when the estimate leaves something out."""
        if not self.partial:
            return money(self.total())
        return f"partial: at least {money(self.total())} ({len(self.unpriced)} lines unpriced)"

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
    ) -> None:
        """A priced line, or `what` listed unpriced when the price file has no such price."""
        unit_price = self.price(region, key, variant)
        if unit_price is None:
            self.report.unpriced.append(
                f"{what} ({region}: no '{key}' price{f' for {variant}' if variant else ''})"
            )
            return
        self.report.lines.append(CostLine(region, item, quantity, unit, unit_price, key))

    # -- resources -------------------------------------------------------------------------------
    def resource(self, resource: Registration) -> None:
        region, type_ = region_label(resource), resource.type
        what = f"{type_} {physical_name(resource) or resource.name}"
        if type_ in FLAT_MONTHLY:
            item, unit, key = FLAT_MONTHLY[type_]
            # Route 53's types are in `global` already (`region_label`).
            self.add(region, item, 1, unit, key, what)
        elif type_ == "aws:rds/clusterInstance:ClusterInstance":
            self.cluster_instance(resource, region, what)
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

    def cluster_instance(self, resource: Registration, region: str, what: str) -> None:
        """A provisioned instance by its class's hourly price; a db.serverless one by ACU-hours
        at its cluster's registered minimum capacity."""
        instance_class = resource.inputs.get("instanceClass", "?")
        if instance_class != SERVERLESS_CLASS:
            self.add(
                region,
                f"Aurora {instance_class}",
                self.hours,
                "instance-hours",
                "aurora_instance_hour",
                what,
                instance_class,
            )
            return
        minimum = self.serverless_minimum(resource)
        if minimum is None:
            self.report.unpriced.append(
                f"{what} ({region}: db.serverless in a cluster with no registered minimum ACU)"
            )
            return
        self.add(
            region,
            f"Aurora Serverless v2 (floor: {minimum:g} ACU)",
            minimum * self.hours,
            "ACU-hours at the minimum",
            "aurora_serverless_v2_acu_hour",
            what,
        )

    def serverless_minimum(self, instance: Registration) -> float | None:
        """The minimum ACU of the instance's cluster (its registered scaling configuration)."""
        for cluster in self.run.of_type("aws:rds/cluster:Cluster"):
            if cluster.region != instance.region or cluster.inputs.get(
                "clusterIdentifier"
            ) != instance.inputs.get("clusterIdentifier"):
                continue
            scaling = cluster.inputs.get("serverlessv2ScalingConfiguration") or {}
            minimum = scaling.get("minCapacity")
            return None if minimum is None else float(minimum)
        return None

    def usage_priced(self, resource: Registration, region: str, what: str) -> None:
        """Resources whose price follows their (registered or assumed) use."""
        type_ = resource.type
        if (
            type_ == "aws:ec2/vpcEndpoint:VpcEndpoint"
            and resource.inputs.get("vpcEndpointType") == "Gateway"
        ):
            self.add(region, "Gateway VPC endpoints", 1, "endpoints", "gateway_endpoint", what)
        elif type_ == "aws:ec2/vpcEndpoint:VpcEndpoint":
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
        elif type_ == "aws:sfn/stateMachine:StateMachine":
            self.state_machine(resource, region, what)

    def state_machine(self, resource: Registration, region: str, what: str) -> None:
        """An Express ticker: its executions a month, each as long as the watch ticks."""
        ticker = self.tickers.get(resource.outputs.get("arn", ""))
        executions = ticker.executions_per_month if ticker else 0.0
        seconds = ticker.execution_seconds if ticker else 0.0
        item = "Step Functions Express (peer watch ticker)"
        self.add(
            region,
            item,
            executions / 1e6,
            "million executions",
            "stepfunctions_express_request_million",
            what,
        )
        self.add(
            region,
            item,
            executions * seconds * EXPRESS_BILLED_MEMORY_GB,
            "GB-seconds",
            "stepfunctions_express_gb_second",
            what,
        )

    def function(self, resource: Registration, region: str, what: str) -> None:
        """A function's invocations a month: its schedule's (rotation: four steps a month), its
        watch's ticks, and the probes its region's watch asks a health checker for (one peer
        probe per tick, one health probe per health run)."""
        arn, name = resource.outputs.get("arn", ""), resource.inputs.get("name", "")
        interval = self.schedules.get(arn)
        key = resource.inputs["handler"].split(".", 1)[0]
        durations = (self.usage or {}).get("lambda_average_duration_seconds", {})
        ticked = self.ticks.get(arn, 0.0)
        scheduled = SECONDS_PER_MONTH / interval if interval else 0.0
        if key == "secret_rotation":
            scheduled = 4 * 30 / 30  # four steps per rotation, about once a month
        probes = self.peer_probes.get(name, 0.0)
        if probes:
            # The health checker's peer probes, one per tick of its region's watch.
            seconds = durations.get(f"{key}_peer_probe", 1)
            self.invocation_lines(region, f"{what} (peer probes)", probes, resource, seconds)
        if ticked:
            # The watch: every tick, and its health run on the schedule (it waits for the
            # checker's probes, then publishes).
            if scheduled:
                seconds = durations.get(f"{key}_health_run", 1)
                self.invocation_lines(region, f"{what} (health run)", scheduled, resource, seconds)
            self.invocation_lines(region, what, ticked, resource, durations.get(key, 1))
            return
        # The health checker's health probes, one per health run of its region's watch;
        # otherwise only incidents and drills.
        runs = scheduled + self.health_probes.get(name, 0.0)
        self.invocation_lines(region, what, runs, resource, durations.get(key, 1))

    def invocation_lines(
        self,
        region: str,
        what: str,
        invocations: float,
        resource: Registration,
        seconds: float,
    ) -> None:
        """Requests and arm64 compute of `invocations` a month of `seconds` each."""
        memory_gb = resource.inputs.get("memorySize", LAMBDA_DEFAULT_MEMORY_MB) / 1024
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
        BackupPricer(self.run, self.usage, self.add, self.report.unpriced, self.hours / 24).price()

    def database_usage(self, u: Mapping[str, Any]) -> None:
        """Storage, I/O and logs of every cluster; replicated writes into the secondaries."""
        clusters = self.run.of_type("aws:rds/cluster:Cluster")
        for cluster in clusters:
            region, name = region_label(cluster), physical_name(cluster)
            # Every region of a global database stores a full copy.
            self.add(
                region,
                "Aurora storage",
                u["aurora_storage_gb"],
                "GB-month (assumed)",
                "aurora_storage_gb_month",
                f"storage of {name}",
            )
            self.add(
                region,
                "Aurora I/O",
                u["aurora_io_million_per_month"] / len(clusters),
                "million I/Os (assumed)",
                "aurora_io_million",
                f"I/O of {name}",
            )
            self.add(
                region,
                "Database logs",
                u["database_log_gb_per_cluster_month"],
                "GB ingested (assumed)",
                "logs_ingest_gb",
                f"database logs of {name}",
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
        self.schedules = schedules(self.run)
        found: list[Ticker] = tickers(self.run)
        self.tickers = {t.state_machine.outputs.get("arn", ""): t for t in found}
        self.ticks = {t.watch.outputs.get("arn", ""): t.ticks_per_month for t in found}
        self.peer_probes = {t.checker_name: t.ticks_per_month for t in found if t.checker_name}
        # A watch on a schedule of its own runs the health run there (ticker or not): one
        # health probe of the checker it names each.
        self.health_probes = {
            str(env(watch, WatchEnv.HEALTH_CHECKER_FUNCTION_NAME)): SECONDS_PER_MONTH
            / self.schedules[watch.outputs.get("arn", "")]
            for watch in self.run.of_type("aws:lambda/function:Function")
            if watch.inputs["handler"].startswith("peer_watch.")
            and env(watch, WatchEnv.HEALTH_CHECKER_FUNCTION_NAME)
            and self.schedules.get(watch.outputs.get("arn", ""))
        }
        for resource in self.run.resources:
            self.resource(resource)
        self.usage_lines()
        return self.report


def estimate_cost(run: PlanRun, sizing: str, prices: Mapping[str, Any] | None = None) -> CostReport:
    """Monthly cost of everything `run` registered, priced with `prices` (default: the file)."""
    return _Pricer(run, sizing, prices or load_prices()).estimate()
