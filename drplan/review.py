"""The review a platform team reads on a pull request: inventory, cost, recovery budget, checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from drplan import harness
from drplan.budget import RecoveryBudget, recovery_budget
from drplan.cost import CostReport, estimate_cost
from drplan.harness import PlanRun
from drplan.inventory import Inventory, build_inventory
from drplan.stack_files import StackConfig, config_warnings, short_key
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
    warnings: list[str] = field(default_factory=list)
    """What the reader should know about the configuration: unknown keys (typos), values not
    decrypted offline, ESC environments not read. Never a failure."""


# Domains reserved for documentation (RFC 2606): mail to them is never delivered, so an address
# there is a placeholder (the committed prod stack carries one until its operators replace it).
RESERVED_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")


def placeholder_warnings(settings: StackSettings) -> list[str]:
    """A subscriber at a reserved example domain reaches no one: say which key to replace."""
    return [
        f"alertEmail {subscriber.endpoint} is a placeholder (a reserved example domain): the "
        "stack's alarms reach no one until you `pulumi config set alertEmail <address>`"
        for subscriber in settings.alert_subscribers
        if subscriber.protocol == "email"
        and subscriber.endpoint.rsplit("@", 1)[-1].lower().endswith(RESERVED_EXAMPLE_DOMAINS)
    ]


def raw_settings(
    config: StackConfig, overrides: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """The project namespace's values (short keys), overrides applied (`None` removes a key)."""
    raw: dict[str, str | None] = {
        short: value
        for key, value in config.values.items()
        if (short := short_key(key)) is not None and ":" in key
    }
    for key, value in (overrides or {}).items():
        if (short := short_key(key)) is not None:
            raw[short] = value
    return raw


def stack_settings(stack: str, overrides: dict[str, str | None] | None = None) -> StackSettings:
    """The stack's validated settings, read as the program reads them."""
    return parse_settings(
        raw_settings(harness.read_stack_config(stack, harness.PROJECT_DIR), overrides)
    )


def review(run: PlanRun, overrides: dict[str, str | None] | None = None) -> StackReview:
    """Build the review of a finished run and evaluate the checks."""
    config = harness.read_stack_config(run.stack, harness.PROJECT_DIR)
    settings = parse_settings(raw_settings(config, overrides))
    result = StackReview(
        stack=run.stack,
        sizing=settings.sizing,
        rto_target_seconds=settings.rto_target_seconds,
        inventory=build_inventory(run),
        cost=estimate_cost(run, settings.sizing),
        budget=recovery_budget(run),
        warnings=[*config_warnings(config, overrides or {}), *placeholder_warnings(settings)],
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
