"""Render an `Inventory` for people (text) or machines (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict

from drplan.inventory import Inventory, short_type


def to_json(inventory: Inventory) -> str:
    """Stable JSON document of the plan."""
    return json.dumps(asdict(inventory), indent=2, sort_keys=True, default=str)


def to_text(inventory: Inventory) -> str:
    """A readable report: per region, per component, counts and physical names."""
    lines = [
        f"aurora-dr plan: stack {inventory.stack!r}, {inventory.resource_count} resources",
        "",
    ]
    for region, components in inventory.regions.items():
        region_total = sum(sum(c.counts.values()) for c in components.values())
        lines.append(f"== {region} ({region_total} resources)")
        for summary in components.values():
            lines.append(f"  {summary.component}")
            for type_token, count in summary.counts.items():
                lines.append(f"    {count:>3}  {short_type(type_token)}")
            if summary.names:
                lines.append("         names: " + ", ".join(summary.names))
        lines.append("")
    lines.append("== totals by type")
    for type_token, count in inventory.totals.items():
        lines.append(f"  {count:>3}  {short_type(type_token)}")
    lines.append("")
    lines.append("== stack outputs")
    width = max((len(k) for k in inventory.outputs), default=0)
    for key, value in inventory.outputs.items():
        lines.append(f"  {key:<{width}}  {value}")
    return "\n".join(lines) + "\n"
