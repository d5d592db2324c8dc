#!/usr/bin/env python3
"""Per-module mutation score from `mutmut results --all true` (read on stdin), for `make mutate`.

A mutant counts as killed when a test failed (`killed`) or the tests did not finish within
mutmut's limit (`timeout`: a planted bug that hangs the code is caught, not missed). Every other
mutant that was run counts against the score: `survived`, and `no tests` (no selected test
executes the mutated function at all). `skipped` mutants are left out. Mutants not run yet (`not
checked`, after an interrupted run) are counted in their own column and left out of the
percentage, which then says so.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

KILLED_STATUSES = frozenset({"killed", "timeout", "caught by type check"})
UNCOUNTED_STATUSES = frozenset({"skipped"})
NOT_RUN_STATUS = "not checked"
# `    failover_coordinator.decision.x_decide__mutmut_3: survived` (functions `x_name`, methods
# `xǁClassǁname`); the module is everything before the mangled function name.
RESULT_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ][^:]*__mutmut_\d+: (?P<status>.+?)\s*$")


@dataclass
class ModuleScore:
    """Mutants of one module: how many ran, how many were killed, which ones were not."""

    module: str
    killed: int = 0
    total: int = 0
    not_run: int = 0
    not_killed: list[tuple[str, str]] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        """Killed as a percentage of the mutants run (100 for a module with none)."""
        return 100.0 * self.killed / self.total if self.total else 100.0


def score_results(lines: Iterable[str]) -> dict[str, ModuleScore]:
    """Scores by module, in first-seen order, from the lines mutmut's `results` prints."""
    scores: dict[str, ModuleScore] = {}
    for line in lines:
        match = RESULT_LINE.match(line)
        if match is None:
            continue
        status = match["status"]
        if status in UNCOUNTED_STATUSES:
            continue
        score = scores.setdefault(match["module"], ModuleScore(match["module"]))
        if status == NOT_RUN_STATUS:
            score.not_run += 1
            continue
        name = line.split(":", 1)[0].strip()
        score.total += 1
        if status in KILLED_STATUSES:
            score.killed += 1
            if status == "timeout":
                score.timed_out.append(name)
        else:
            score.not_killed.append((name, status))
    return scores


def render(scores: dict[str, ModuleScore]) -> str:
    """A table of killed / total / % (and mutants not run) per module and overall, then the
    timeouts and every mutant run but not killed, by name."""
    width = max([len("module"), len("all"), *(len(name) for name in scores)])

    def row(score: ModuleScore) -> str:
        percent = f"{score.percent:5.1f}%" if score.total else "     -"
        return (
            f"{score.module:<{width}}  {score.killed:6}  {score.total:5}  {percent}"
            f"  {score.not_run:7}"
        )

    rows = [f"{'module':<{width}}  killed  total       %  not run"]
    overall = ModuleScore("all")
    for score in scores.values():
        rows.append(row(score))
        overall.killed += score.killed
        overall.total += score.total
        overall.not_run += score.not_run
        overall.not_killed += score.not_killed
        overall.timed_out += score.timed_out
    rows.append(row(overall))
    if overall.not_run:
        rows.append(
            f"\n{overall.not_run} mutants not run yet (interrupted?): the percentages cover only "
            "the mutants run; `scripts/mutmut_cli.py run` continues where it stopped."
        )
    if overall.timed_out:
        rows.append(
            "\ntimed out, counted as killed (a hang, or a machine too loaded for the limit):"
        )
        rows += [f"  {name}" for name in overall.timed_out]
    if overall.not_killed:
        rows.append("\nnot killed (`scripts/mutmut_cli.py show NAME` prints the mutation):")
        rows += [f"  {name}: {status}" for name, status in overall.not_killed]
    return "\n".join(rows)


def main() -> int:
    """Print the score table for mutmut's results on stdin; fails when there are none."""
    scores = score_results(sys.stdin)
    if not scores:
        print("no mutant results on stdin: run `mutmut run` first", file=sys.stderr)
        return 1
    print(render(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
