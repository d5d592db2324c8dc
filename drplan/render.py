"""Render a `StackReview` for people (text), pull requests (markdown) or machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from drplan.budget import RecoveryPath
from drplan.cost import CostReport
from drplan.inventory import Inventory, short_type
from drplan.review import StackReview


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*headers), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*row) for row in rows
    ]


def _heading(text: str, markdown: bool, level: int = 2) -> list[str]:
    return [f"{'#' * level} {text}", ""] if markdown else [f"== {text}"]


# --- inventory -----------------------------------------------------------------------------------


def inventory_lines(inventory: Inventory, markdown: bool) -> list[str]:
    """Per region, per component: counts by type and physical names."""
    lines = _heading(f"Inventory: {inventory.resource_count} resources", markdown)
    for region, components in inventory.regions.items():
        total = sum(sum(c.counts.values()) for c in components.values())
        if markdown:
            lines += [f"**{region}** ({total} resources)", ""]
            rows = [
                [c.component, ", ".join(f"{n} {short_type(t)}" for t, n in c.counts.items())]
                for c in components.values()
            ]
            lines += [*_table(["component", "resources"], rows, markdown=True), ""]
            continue
        lines.append(f"-- {region} ({total} resources)")
        for summary in components.values():
            lines.append(f"  {summary.component}")
            for type_token, count in summary.counts.items():
                lines.append(f"    {count:>3}  {short_type(type_token)}")
            if summary.names:
                lines.append("         names: " + ", ".join(summary.names))
    lines.append("")
    return lines


def outputs_lines(inventory: Inventory, markdown: bool) -> list[str]:
    """The stack outputs."""
    lines = _heading("Stack outputs", markdown)
    rows = [
        [key, f"`{value}`" if markdown else str(value)] for key, value in inventory.outputs.items()
    ]
    return [*lines, *_table(["output", "value"], rows, markdown), ""]


# --- cost ----------------------------------------------------------------------------------------


def cost_lines(cost: CostReport, markdown: bool) -> list[str]:
    """Monthly cost per region and item, total, unpriced resources and assumptions."""
    lines = _heading(
        f"Monthly cost estimate: {cost.headline(_money)} (sizing `{cost.sizing}`)", markdown
    )
    rows = []
    for region in cost.regions():
        for item, amount in sorted(cost.by_item(region).items(), key=lambda kv: -kv[1]):
            rows.append([region, item, _money(amount)])
        rows.append(
            [region, "**subtotal**" if markdown else "subtotal", _money(cost.total(region))]
        )
    lines += _table(["region", "item", "per month"], rows, markdown)
    lines.append("")
    if cost.unpriced:
        lines += _heading("Unpriced (not in the price file)", markdown, level=3)
        lines += [f"- {item}" for item in cost.unpriced] + [""]
    assumed = ", ".join(f"{k}={v}" for k, v in cost.assumptions.items() if k != "notes")
    lines += [
        f"Prices: drplan/data/prices.json (on-demand list prices, each with its source and date). "
        f"Usage assumed: {assumed}.",
        "",
    ]
    return lines


# --- recovery budget -----------------------------------------------------------------------------


def path_lines(path: RecoveryPath, markdown: bool) -> list[str]:
    """One scenario, phase by phase, with the origin of every number."""
    state = "automatic" if path.automatic else "MANUAL"
    lines = _heading(f"{path.scenario}: {path.seconds:.0f} s ({state})", markdown, level=3)
    rows = []
    for phase in path.phases:
        for part in phase.parts:
            rows.append([phase.name, part.label, f"{part.seconds:.0f} s", part.origin])
        rows.append([phase.name, "phase total", f"{phase.seconds:.0f} s", ""])
    lines += _table(["phase", "step", "time", "from"], rows, markdown)
    lines += [f"- {note}" for note in path.notes]
    return [*lines, ""]


def _route53_seconds(path: RecoveryPath) -> float:
    return path.route53.seconds if path.route53 is not None else path.seconds


def budget_lines(review: StackReview, markdown: bool) -> list[str]:
    """RTO of both scenarios against the target (global writer endpoint clients, then Route 53
    clients), and the RPO statement."""
    budget = review.budget
    unplanned, planned = budget.unplanned, budget.planned
    lines = _heading(
        f"Recovery budget: unplanned RTO {unplanned.seconds:.0f} s "
        f"(target {review.rto_target_seconds} s), planned {planned.seconds:.0f} s "
        f"(global writer endpoint); Route 53 clients {_route53_seconds(unplanned):.0f} s / "
        f"{_route53_seconds(planned):.0f} s",
        markdown,
    )
    for path in (unplanned, planned):
        lines += path_lines(path, markdown)
        if path.route53 is not None:
            lines += path_lines(path.route53, markdown)
    rpo = budget.rpo
    managed = (
        f"`rds.global_db_rpo` = {rpo.managed_rpo_seconds} s: commits block beyond it"
        if rpo.managed_rpo_seconds
        else "no managed RPO (`rds.global_db_rpo` unset: a lost DR region never blocks writes)"
    )
    lines += _heading("Recovery point", markdown, level=3)
    lines += [
        f"- {managed}",
        "- RPO-lag alarm: "
        + ", ".join(f"{r} > {v / 1000:.0f} s" for r, v in sorted(rpo.rpo_lag_alarm_ms.items())),
        "- replication-lag alarm: "
        + ", ".join(
            f"{r} > {v / 1000:.0f} s" for r, v in sorted(rpo.replication_lag_alarm_ms.items())
        ),
        "- the coordinator refuses an unplanned failover (unless forced) when RPO lag exceeds: "
        + ", ".join(
            f"{r} {v / 1000:.0f} s" for r, v in sorted(rpo.coordinator_lag_gate_ms.items())
        ),
        "",
    ]
    return lines


def checks_lines(review: StackReview, markdown: bool) -> list[str]:
    """What `--check` decides."""
    lines = _heading("Checks", markdown)
    if not review.failures:
        return [*lines, "- pass: RTO within target, every resource priced", ""]
    return [*lines, *(f"- FAIL: {failure}" for failure in review.failures), ""]


def warnings_lines(review: StackReview, markdown: bool) -> list[str]:
    """What the reader should know about the configuration (nothing when all is well)."""
    if not review.warnings:
        return []
    return [*_heading("Warnings", markdown), *(f"- {w}" for w in review.warnings), ""]


def to_text(review: StackReview, markdown: bool = False) -> str:
    """The whole review as text (or markdown)."""
    title = f"aurora-dr plan: stack `{review.stack}` (sizing `{review.sizing}`)"
    lines = [f"# {title}", ""] if markdown else [title.replace("`", "'"), ""]
    lines += warnings_lines(review, markdown)
    lines += inventory_lines(review.inventory, markdown)
    lines += cost_lines(review.cost, markdown)
    lines += budget_lines(review, markdown)
    lines += checks_lines(review, markdown)
    lines += outputs_lines(review.inventory, markdown)
    return "\n".join(lines).rstrip() + "\n"


def to_markdown(review: StackReview) -> str:
    """Markdown for a pull-request comment."""
    return to_text(review, markdown=True)


def to_json(review: StackReview) -> str:
    """Stable JSON document of the review."""
    document = asdict(review)
    document["cost"]["total"] = review.cost.total()
    document["cost"]["regions"] = {r: review.cost.total(r) for r in review.cost.regions()}
    for name in ("unplanned", "planned"):
        path: RecoveryPath = getattr(review.budget, name)
        # The headline: clients of the global writer endpoint; Route 53 clients beside it.
        document["budget"][name]["seconds"] = path.seconds
        if path.route53 is not None:
            document["budget"][name]["route53"]["seconds"] = path.route53.seconds
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def compare(reviews: Sequence[StackReview], markdown: bool = False) -> str:
    """Stacks side by side: resources, cost per region, RTO."""
    names = [f"{r.stack} ({r.sizing})" for r in reviews]
    regions = sorted(
        {g for r in reviews for g in r.cost.regions()}, key=lambda g: (g == "global", g)
    )
    rows = [["resources", *(str(r.inventory.resource_count) for r in reviews)]]
    rows += [[f"cost {g}", *(_money(r.cost.total(g)) for r in reviews)] for g in regions]
    rows.append(["cost total / month", *(r.cost.headline(_money) for r in reviews)])
    items = sorted({i for r in reviews for g in regions for i in r.cost.by_item(g)})
    for item in items:
        rows.append(
            [
                f"  {item}",
                *(_money(sum(r.cost.by_item(g).get(item, 0) for g in regions)) for r in reviews),
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
            *(f"{_route53_seconds(r.budget.unplanned):.0f} s" for r in reviews),
        ]
    )
    rows.append(
        [
            "planned switchover, Route 53 clients",
            *(f"{_route53_seconds(r.budget.planned):.0f} s" for r in reviews),
        ]
    )
    rows.append(["RTO target", *(f"{r.rto_target_seconds} s" for r in reviews)])
    rows.append(
        ["checks", *("pass" if not r.failures else f"{len(r.failures)} fail" for r in reviews)]
    )
    lines = _heading("Stacks side by side", markdown) + _table(["", *names], rows, markdown)
    return "\n".join(lines) + "\n"
