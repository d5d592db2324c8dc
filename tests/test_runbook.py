"""The runbook names what the code deploys and says: a renamed alarm or a reworded lock page
must not leave on-call reading a name that no longer exists."""

from __future__ import annotations

import re

from drplan.harness import PROJECT_DIR, PlanRun
from drplan.inventory import physical_name
from failover_coordinator.lock import clear_instructions

RUNBOOK = PROJECT_DIR / "docs" / "runbook.md"
SITUATIONS = (
    "Primary region lost (automatic failover)",
    "Planned switchover and failback",
    "DR region outage (nothing fails over)",
    "A stuck or failed coordinator lock",
    "A rotation that failed half-way",
    "After a failover, the next `pulumi up`",
    "Engine upgrades",
    "Restoring from the verified backups",
)
# Every situation answers the same questions.
QUESTIONS = ("How you learn", "What you check", "Back out")
# A concrete prod name in the runbook: aurora-dr-<parts>-<use1|usw2>-prod.
NAME = re.compile(r"aurora-dr-[a-z0-9-]+?-(?:use1|usw2)-prod")


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.splitlines()[0]: part for part in parts}


def test_the_readme_links_the_runbook_and_it_covers_every_situation():
    assert "(docs/runbook.md)" in (PROJECT_DIR / "README.md").read_text()
    by_title = sections(RUNBOOK.read_text())
    for situation in SITUATIONS:
        assert situation in by_title, f"no section {situation!r}"
    for situation in SITUATIONS:
        for question in QUESTIONS:
            assert question.lower() in by_title[situation].lower(), f"{situation}: {question}"


def test_every_concrete_name_in_the_runbook_is_one_prod_deploys(plans: dict[str, PlanRun]):
    deployed = {name for r in plans["prod"].resources if (name := physical_name(r))}
    deployed |= {f"/aws/lambda/{n}" for n in deployed}
    named = set(NAME.findall(RUNBOOK.read_text()))
    assert named, "the runbook names no resource"
    assert named - deployed == set()


def test_the_lock_page_is_quoted_as_the_coordinator_writes_it(plans: dict[str, PlanRun]):
    prod = plans["prod"]
    dr = prod.outputs["drRegion"]
    (table,) = [
        t.inputs["name"] for t in prod.of_type("aws:dynamodb/table:Table") if t.region == dr
    ]
    text = clear_instructions(table, dr, prod.outputs["globalClusterId"])
    assert text in RUNBOOK.read_text()
