"""The plan in a terminal (`--format text`, the default), rendered with rich.

Every line fits the console's width (`COLUMNS`, else the terminal's, else 80): long names and
sources wrap inside their table cells. Colour and Unicode rules only on a terminal; piped or
redirected, the output is plain ASCII text. The rows are the ones the markdown gets
(`drplan.render`), so the two never say different things.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from drplan import render
from drplan.compare import StackDifference
from drplan.review import StackReview

# box.SIMPLE (a rule under the header) drawn with ASCII, for output that is not a terminal.
ASCII_SIMPLE = box.Box("    \n    \n -- \n    \n    \n -- \n    \n    \n", ascii=True)


def make_console(file: TextIO | None = None) -> Console:
    """A console on `file` (default: the current stdout), sized and coloured as rich decides:
    no colour unless it is a terminal; never markup, emoji or highlighting (names and sources
    are printed as they are)."""
    return Console(
        file=file or sys.stdout, markup=False, highlight=False, emoji=False, soft_wrap=False
    )


@contextlib.contextmanager
def trimmed(console: Console) -> Iterator[None]:
    """Print what the block renders without the trailing blanks rich pads table cells with."""
    with console.capture() as capture:
        yield
    text = "\n".join(line.rstrip() for line in capture.get().splitlines())
    console.file.write(text + "\n")


def _table(console: Console, headers: Sequence[str], *, right: Sequence[int] = ()) -> Table:
    table = Table(
        box=box.SIMPLE if console.is_terminal else ASCII_SIMPLE,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for index, header in enumerate(headers):
        table.add_column(header, overflow="fold", justify="right" if index in right else "left")
    return table


def _heading(console: Console, text: str, level: int = 1) -> None:
    marker = {1: "==", 2: "--"}.get(level, "")
    console.print(Text(f"{marker} {text}".strip(), style="bold" if level == 1 else "bold dim"))


def _bullets(console: Console, items: Sequence[str], style: str = "") -> None:
    for item in items:
        console.print(Text(f"- {item}", style=style))


def print_inventory(console: Console, review: StackReview) -> None:
    """Per region: each component's resource counts by type, then its physical names."""
    inventory = review.inventory
    _heading(console, f"Inventory: {inventory.resource_count} resources")
    for region, components in inventory.regions.items():
        _heading(console, f"{region} ({render.region_total(inventory, region)} resources)", 2)
        if reach := render.alerts_reach(inventory, region):
            console.print(reach)
        table = _table(console, ["component", "resources and their names"])
        for summary in components.values():
            cell = Text(render.resource_counts(summary.counts, separator="\n", width=3))
            if summary.names:
                cell.append("\nnames: " + ", ".join(summary.names), style="dim")
            table.add_row(summary.component, cell)
        console.print(table)


def print_cost(console: Console, review: StackReview) -> None:
    """Monthly cost per region and item, what is unpriced, and the assumptions."""
    cost = review.cost
    _heading(console, render.cost_heading(cost).replace("`", "'"))
    table = _table(console, ["region", "item", "per month"], right=[2])
    for row in render.cost_rows(cost):
        table.add_row(*row, style="bold" if row[1] == "subtotal" else "")
    console.print(table)
    if cost.unpriced:
        _heading(console, "Unpriced (not in the price file)", 2)
        _bullets(console, cost.unpriced, style="red")
    console.print(render.cost_footnote(cost))
    console.print()


def print_budget(console: Console, review: StackReview) -> None:
    """Both recovery paths step by step, then the recovery point."""
    _heading(console, render.budget_heading(review))
    for path in render.budget_paths(review):
        _heading(console, render.path_heading(path), 2)
        table = _table(console, ["phase", "step", "time", "from"], right=[2])
        for row in render.path_rows(path):
            table.add_row(*row, style="bold" if row[1] == "phase total" else "")
        console.print(table)
        _bullets(console, path.notes)
    _heading(console, "Recovery point", 2)
    _bullets(console, render.recovery_point_items(review))
    console.print()


def print_checks(console: Console, review: StackReview) -> None:
    """What `--check` decides."""
    _heading(console, "Checks")
    _bullets(console, render.check_items(review), style="red" if review.failures else "green")
    console.print()


def print_outputs(console: Console, review: StackReview) -> None:
    """The stack outputs, nested maps one row per leaf."""
    _heading(console, "Stack outputs")
    table = _table(console, ["output", "value"])
    for key, value in render.flat_outputs(review.inventory.outputs):
        table.add_row(key, value)
    console.print(table)


def print_review(console: Console, review: StackReview) -> None:
    """The whole plan of one stack."""
    with trimmed(console):
        _print_review(console, review)


def _print_review(console: Console, review: StackReview) -> None:
    console.print(Text(render.title(review).replace("`", "'"), style="bold"))
    console.print()
    if review.warnings:
        _heading(console, "Warnings")
        _bullets(console, review.warnings, style="yellow")
        console.print()
    print_inventory(console, review)
    console.print()
    print_cost(console, review)
    print_budget(console, review)
    print_checks(console, review)
    print_outputs(console, review)


def print_compare(
    console: Console, reviews: Sequence[StackReview], difference: StackDifference
) -> None:
    """Stacks side by side, then what differs in the inventory and the knobs that explain it."""
    with trimmed(console):
        _print_compare(console, reviews, difference)


def _print_compare(
    console: Console, reviews: Sequence[StackReview], difference: StackDifference
) -> None:
    _heading(console, "Stacks side by side")
    table = _table(console, ["", *(render.stack_label(r) for r in reviews)], right=[1, 2])
    for row in render.compare_rows(reviews):
        table.add_row(*row)
    console.print(table)
    console.print()
    if warnings := render.stack_warnings(reviews):
        _heading(console, "Warnings")
        _bullets(console, warnings, style="yellow")
        console.print()
    for heading, headers, rows in render.difference_tables(reviews, difference):
        _heading(console, heading)
        table = _table(console, headers)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        console.print()
