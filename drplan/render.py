"""What a `StackReview` says, as rows and headings, and how pull requests (markdown) and machines
(JSON) get it. The terminal gets the same rows through `drplan.terminal`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from drplan.budget import RecoveryPath
from drplan.compare import StackDifference
from drplan.cost import CostReport
from drplan.inventory import Inventory, short_type
from drplan.review import StackReview

SCHEMA_VERSION = 1
"""Version of the JSON document (`--format json`); the README lists its fields. Bumped when a
field is renamed, removed or changes meaning; adding a field is not a new version."""


def money(value: float) -> str:
    """`1234.5` -> `$1,234.50`."""
    return f"${value:,.2f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _heading(text: str, level: int = 2) -> list[str]:
    return [f"{'#' * level} {text}", ""]


# --- what each part says (shared by markdown and the terminal) ------------------------------------


def title(review: StackReview) -> str:
    """The plan's title line."""
    return f"aurora-dr plan: stack `{review.stack}` (sizing `{review.sizing}`)"


def resource_counts(counts: dict[str, int], separator: str = ", ", width: int = 0) -> str:
    """`{"aws:kms/key:Key": 1}` -> `1 kms:Key`, joined; counts right-aligned to `width`."""
    return separator.join(f"{n:>{width}} {short_type(t)}" for t, n in counts.items())


def region_total(inventory: Inventory, region: str) -> int:
    """Cloud resources the stack creates in one region (or `global`)."""
    return sum(sum(c.counts.values()) for c in inventory.regions[region].values())


def flat_outputs(outputs: dict[str, Any]) -> list[tuple[str, str]]:
    """Stack outputs as (key, value) rows; nested maps become one row per leaf, keyed by the
    dotted path (`functionArns.health_checker.us-east-1`)."""
    rows: list[tuple[str, str]] = []
    for key, value in outputs.items():
        if isinstance(value, dict) and value:
            rows += [(f"{key}.{k}", v) for k, v in flat_outputs(value)]
        else:
            rows.append((key, str(value)))
    return rows


def cost_heading(cost: CostReport) -> str:
    """`Monthly cost estimate: $1.00 (sizing `test`)`; the total says `partial` when lines are
    unpriced."""
    return f"Monthly cost estimate: {cost.headline(money)} (sizing `{cost.sizing}`)"


def cost_rows(cost: CostReport, subtotal: str = "subtotal") -> list[list[str]]:
    """Region, item, monthly amount (largest first), and each region's subtotal."""
    rows = []
    for region in cost.regions():
        for item, amount in sorted(cost.by_item(region).items(), key=lambda kv: -kv[1]):
            rows.append([region, item, money(amount)])
        rows.append([region, subtotal, money(cost.total(region))])
    return rows


def cost_footnote(cost: CostReport) -> str:
    """Where the prices come from and the usage assumed."""
    assumed = ", ".join(f"{k}={v}" for k, v in cost.assumptions.items() if k != "notes")
    return (
        f"Prices: drplan/data/prices.json (on-demand list prices, each with its source and date). "
        f"Usage assumed: {assumed}."
    )


def path_heading(path: RecoveryPath) -> str:
    """`unplanned regional failover ...: 283 s (automatic)`."""
    state = "automatic" if path.automatic else "MANUAL"
    return f"{path.scenario}: {path.seconds:.0f} s ({state})"


def path_rows(path: RecoveryPath) -> list[list[str]]:
    """Phase, step, seconds and where the number comes from; a total per phase."""
    rows = []
    for phase in path.phases:
        for part in phase.parts:
            rows.append([phase.name, part.label, f"{part.seconds:.0f} s", part.origin])
        rows.append([phase.name, "phase total", f"{phase.seconds:.0f} s", ""])
    return rows


def route53_seconds(path: RecoveryPath) -> float:
    """The scenario's time for clients of the Route 53 records (the path's own when it has no
    Route 53 variant)."""
    return path.route53.seconds if path.route53 is not None else path.seconds


def budget_heading(review: StackReview) -> str:
    """Both scenarios' RTO against the target: global writer endpoint clients (what the target
    holds), then Route 53 clients."""
    unplanned, planned = review.budget.unplanned, review.budget.planned
    return (
        f"Recovery budget: unplanned RTO {unplanned.seconds:.0f} s "
        f"(target {review.rto_target_seconds} s), planned {planned.seconds:.0f} s "
        f"(global writer endpoint); Route 53 clients {route53_seconds(unplanned):.0f} s / "
        f"{route53_seconds(planned):.0f} s"
    )


def budget_paths(review: StackReview) -> list[RecoveryPath]:
    """Every path the budget shows, in order: each scenario for global writer endpoint clients,
    then for Route 53 clients."""
    paths = []
    for path in (review.budget.unplanned, review.budget.planned):
        paths.append(path)
        if path.route53 is not None:
            paths.append(path.route53)
    return paths


def recovery_point_items(review: StackReview) -> list[str]:
    """The RPO statement: managed RPO, the lag alarms, the coordinator's lag gate."""
    rpo = review.budget.rpo
    managed = (
        f"`rds.global_db_rpo` = {rpo.managed_rpo_seconds} s: commits block beyond it"
        if rpo.managed_rpo_seconds
        else "no managed RPO (`rds.global_db_rpo` unset: a lost DR region never blocks writes)"
    )
    return [
        managed,
        "RPO-lag alarm: "
        + ", ".join(f"{r} > {v / 1000:.0f} s" for r, v in sorted(rpo.rpo_lag_alarm_ms.items())),
        "replication-lag alarm: "
        + ", ".join(
            f"{r} > {v / 1000:.0f} s" for r, v in sorted(rpo.replication_lag_alarm_ms.items())
        ),
        "the coordinator refuses an unplanned failover (unless forced) when RPO lag exceeds: "
        + ", ".join(
            f"{r} {v / 1000:.0f} s" for r, v in sorted(rpo.coordinator_lag_gate_ms.items())
        ),
    ]


def check_items(review: StackReview) -> list[str]:
    """What `--check` decides, one line per failure (or one pass line)."""
    if not review.failures:
        return ["pass: RTO within target, every resource priced"]
    return [f"FAIL: {failure}" for failure in review.failures]


def compare_rows(reviews: Sequence[StackReview]) -> list[list[str]]:
    """Stacks side by side: resources, cost per region and item, RTO, checks."""
    regions = sorted(
        {g for r in reviews for g in r.cost.regions()}, key=lambda g: (g == "global", g)
    )
    rows = [["resources", *(str(r.inventory.resource_count) for r in reviews)]]
    rows += [[f"cost {g}", *(money(r.cost.total(g)) for r in reviews)] for g in regions]
    rows.append(["cost total / month", *(r.cost.headline(money) for r in reviews)])
    items = sorted({i for r in reviews for g in regions for i in r.cost.by_item(g)})
    for item in items:
        rows.append(
            [
                f"  {item}",
                *(money(sum(r.cost.by_item(g).get(item, 0) for g in regions)) for r in reviews),
            ]
        )
    rows.append(
        [
            "unplanned RTO, global writer endpoint clients",
            *(f"{r.budget.unplanned.seconds:.0f} s" for r in reviews),
        ]
    )
    rows.append(
        [
            "planned switchover, global writer endpoint clients",
            *(f"{r.budget.planned.seconds:.0f} s" for r in reviews),
        ]
    )
    rows.append(
        [
            "unplanned RTO, Route 53 clients",
            *(f"{route53_seconds(r.budget.unplanned):.0f} s" for r in reviews),
        ]
    )
    rows.append(
        [
            "planned switchover, Route 53 clients",
            *(f"{route53_seconds(r.budget.planned):.0f} s" for r in reviews),
        ]
    )
    rows.append(["RTO target", *(f"{r.rto_target_seconds} s" for r in reviews)])
    rows.append(
        ["checks", *("pass" if not r.failures else f"{len(r.failures)} fail" for r in reviews)]
    )
    return rows


def stack_label(review: StackReview) -> str:
    """`prod (prod)`: stack and sizing."""
    return f"{review.stack} ({review.sizing})"


def difference_tables(
    reviews: Sequence[StackReview], difference: StackDifference
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, headers, rows) of the inventory difference and of the knobs that differ."""
    names = [r.stack for r in reviews]
    counts = [
        [d.where, short_type(d.type), *map(str, d.counts), "; ".join(d.because) or "-"]
        for d in difference.counts
    ]
    knobs = [[k.knob, *k.values] for k in difference.knobs]
    return [
        (
            "Inventory difference (resource counts that differ, and the knobs that set them)",
            ["where", "resource type", *names, "because"],
            counts or [["-", "(no count differs)", *("" for _ in names), ""]],
        ),
        (
            "Sizing knobs and settings that differ",
            ["knob", *names],
            knobs or [["(none)", *("" for _ in names)]],
        ),
    ]


def stack_warnings(reviews: Sequence[StackReview]) -> list[str]:
    """Every stack's warnings, each prefixed with its stack."""
    return [f"{r.stack}: {w}" for r in reviews for w in r.warnings]


# --- markdown ------------------------------------------------------------------------------------


def warnings_lines(review: StackReview) -> list[str]:
    """What the reader should know about the configuration (nothing when all is well)."""
    if not review.warnings:
        return []
    return [*_heading("Warnings"), *(f"- {w}" for w in review.warnings), ""]


def alerts_reach(inventory: Inventory, region: str) -> str | None:
    """Who the region's alarms reach, as one line (None for a region without an alert topic:
    the global pseudo-region)."""
    if region not in inventory.alert_subscribers:
        return None
    subscribers = inventory.alert_subscribers[region]
    if not subscribers:
        return "alarms reach: no one (set alertEmail or alertHttpsEndpoint)"
    return "alarms reach: " + ", ".join(subscribers)


def inventory_lines(inventory: Inventory) -> list[str]:
    """Per region, per component: counts by type, and who the region's alarms reach."""
    lines = _heading(f"Inventory: {inventory.resource_count} resources")
    for region, components in inventory.regions.items():
        lines += [f"**{region}** ({region_total(inventory, region)} resources)", ""]
        if reach := alerts_reach(inventory, region):
            lines += [reach, ""]
        rows = [[c.component, resource_counts(c.counts)] for c in components.values()]
        lines += [*_table(["component", "resources"], rows), ""]
    lines.append("")
    return lines


def outputs_lines(inventory: Inventory) -> list[str]:
    """The stack outputs."""
    rows = [[key, f"`{value}`"] for key, value in inventory.outputs.items()]
    return [*_heading("Stack outputs"), *_table(["output", "value"], rows), ""]


def cost_lines(cost: CostReport) -> list[str]:
    """Monthly cost per region and item, total, unpriced resources and assumptions."""
    lines = _heading(cost_heading(cost))
    lines += _table(["region", "item", "per month"], cost_rows(cost, "**subtotal**"))
    lines.append("")
    if cost.unpriced:
        lines += _heading("Unpriced (not in the price file)", level=3)
        lines += [f"- {item}" for item in cost.unpriced] + [""]
    return [*lines, cost_footnote(cost), ""]


def path_lines(path: RecoveryPath) -> list[str]:
    """One scenario, phase by phase, with the origin of every number."""
    lines = _heading(path_heading(path), level=3)
    lines += _table(["phase", "step", "time", "from"], path_rows(path))
    lines += [f"- {note}" for note in path.notes]
    return [*lines, ""]


def budget_lines(review: StackReview) -> list[str]:
    """RTO of both scenarios against the target (global writer endpoint clients, then Route 53
    clients), and the RPO statement."""
    lines = _heading(budget_heading(review))
    for path in budget_paths(review):
        lines += path_lines(path)
    lines += _heading("Recovery point", level=3)
    return [*lines, *(f"- {item}" for item in recovery_point_items(review)), ""]


def checks_lines(review: StackReview) -> list[str]:
    """What `--check` decides."""
    return [*_heading("Checks"), *(f"- {item}" for item in check_items(review)), ""]


def to_markdown(review: StackReview) -> str:
    """Markdown for a pull-request comment."""
    lines = [f"# {title(review)}", ""]
    lines += warnings_lines(review)
    lines += inventory_lines(review.inventory)
    lines += cost_lines(review.cost)
    lines += budget_lines(review)
    lines += checks_lines(review)
    lines += outputs_lines(review.inventory)
    return "\n".join(lines).rstrip() + "\n"


def compare(reviews: Sequence[StackReview]) -> str:
    """Stacks side by side (markdown): resources, cost per region, RTO."""
    headers = ["", *(stack_label(r) for r in reviews)]
    lines = _heading("Stacks side by side") + _table(headers, compare_rows(reviews))
    return "\n".join(lines) + "\n"


def compare_markdown(reviews: Sequence[StackReview], difference: StackDifference) -> str:
    """`--compare` as markdown: side by side, then the inventory and knob differences."""
    lines = [*compare(reviews).splitlines(), ""]
    if warnings := stack_warnings(reviews):
        lines += [*_heading("Warnings"), *(f"- {w}" for w in warnings), ""]
    for heading, headers, rows in difference_tables(reviews, difference):
        lines += [*_heading(heading), *_table(headers, rows), ""]
    return "\n".join(lines).rstrip() + "\n"


# --- JSON ----------------------------------------------------------------------------------------


def review_document(review: StackReview) -> dict[str, Any]:
    """The review as a JSON-ready dict, with the totals the dataclasses compute."""
    document = asdict(review)
    document["cost"]["total"] = review.cost.total()
    document["cost"]["partial"] = review.cost.partial
    document["cost"]["regions"] = {r: review.cost.total(r) for r in review.cost.regions()}
    for name in ("unplanned", "planned"):
        path: RecoveryPath = getattr(review.budget, name)
        # The headline: clients of the global writer endpoint; Route 53 clients beside it.
        document["budget"][name]["seconds"] = path.seconds
        if path.route53 is not None:
            document["budget"][name]["route53"]["seconds"] = path.route53.seconds
    return document


def to_json(review: StackReview) -> str:
    """Stable JSON document of one stack's review."""
    document = {"schema_version": SCHEMA_VERSION, **review_document(review)}
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def compare_json(reviews: Sequence[StackReview], difference: StackDifference) -> str:
    """Stable JSON document of `--compare`: each stack's review and the difference."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "stacks": [review_document(r) for r in reviews],
        "difference": difference.as_dict(),
    }
    return json.dumps(document, indent=2, sort_keys=True, default=str)
