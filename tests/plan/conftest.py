"""The plan tests read the suite's shared whole-stack runs (`plans`, tests/conftest.py).

`python -m drplan` and the README generator run the program themselves; `served_runs` makes
them read the shared runs instead, so a CLI test costs no extra program run. A test may put a
modified copy of a run in the returned dict to show the CLI a different stack.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

import drplan.__main__ as drplan_cli
from drplan import harness, readme
from drplan.harness import PlanRun


@pytest.fixture
def served_runs(monkeypatch: pytest.MonkeyPatch, plans: dict[str, PlanRun]) -> dict[str, PlanRun]:
    """Stack -> the run `main([...])` and `readme.generated_block()` get for it.

    Only a plain run of a known stack is served; config overrides (`--config`) and unknown
    stacks still run the real program, so bad input fails exactly as it does for a user.
    """
    served = dict(plans)

    def run_program(
        stack: str, overrides: Mapping[str, str | None] | None = None, **options
    ) -> PlanRun:
        if not overrides and not options and stack in served:
            return served[stack]
        return harness.run_program(stack, overrides, **options)

    monkeypatch.setattr(drplan_cli, "run_program", run_program)
    monkeypatch.setattr(readme, "run_program", run_program)
    return served
