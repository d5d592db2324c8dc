"""The review a platform team reads on a pull request: inventory, cost, recovery budget, checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from drplan.budget import RecoveryBudget, recovery_budget
from drplan.cost import CostReport, estimate_cost
from drplan.harness import PlanRun, load_stack_config
from drplan.inventory import Inventory, build_inventory
from stack.config import StackSettings, parse_settings


@dataclass
class StackReview:
    """Everything the plan says about one stack."""

    stack: str
    sizing: str
    rto_target_seconds: int
    inventory: Inventory
    cost: CostReport
    budget: RecoveryBudget
    failures: list[str] = field(default_factory=list)
    """What `--check` fails on (empty when the stack passes)."""


def stack_settings(stack: str, overrides: dict[str, str | None] | None = None) -> StackSettings:
    """The stack's validated settings, read as the program reads them."""
    raw: dict[str, str | None] = {
        k.split(":", 1)[1]: v for k, v in load_stack_config(stack).items() if ":" in k
    }
    for key, value in (overrides or {}).items():
        raw[key] = value
    return parse_settings(raw)


def review(run: PlanRun, overrides: dict[str, str | None] | None = None) -> StackReview:
    """Build the review of a finished run and evaluate the checks."""
    settings = stack_settings(run.stack, overrides)
    result = StackReview(
        stack=run.stack,
        sizing=settings.sizing,
        rto_target_seconds=settings.rto_target_seconds,
        inventory=build_inventory(run),
        cost=estimate_cost(run, settings.sizing),
        budget=recovery_budget(run),
    )
    unplanned = result.budget.unplanned
    if not unplanned.automatic:
        result.failures.append("unplanned failover is not automatic: " + "; ".join(unplanned.notes))
    if unplanned.seconds > settings.rto_target_seconds:
        result.failures.append(
            f"modeled unplanned RTO {unplanned.seconds:.0f} s (global writer endpoint clients) "
            f"exceeds rtoTargetSeconds {settings.rto_target_seconds} s"
        )
    for item in result.cost.unpriced:
        result.failures.append(f"unpriced: {item}")
    return result
