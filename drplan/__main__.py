"""`python -m drplan --stack dev`: the offline plan of a stack, without AWS or the Pulumi CLI.

Inventory (what the stack creates, per region and component), monthly cost, the recovery-time
and recovery-point budget, and the checks a pull request must pass (`--check`).
"""

from __future__ import annotations

import argparse
import json
import sys

import pulumi

from drplan import measured, render, terminal
from drplan.compare import difference
from drplan.harness import ProgramFailed, run_program
from drplan.measured import ResultsError, compare, load_results
from drplan.review import StackReview, review, stack_settings

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EPILOG = f"""\
examples:
  python -m drplan
      the dev stack's plan, for a terminal
  python -m drplan --stack prod --check
      also fail (exit 1) when prod misses its RTO target or something is unpriced
  python -m drplan --stack prod --format markdown --check
      what a pull request gets
  python -m drplan --config drRegion=eu-west-1
      try a configuration change without editing the stack file
  python -m drplan --stack dev --compare prod
      what differs between two stacks' inventories, and the knobs that explain it
  python -m drplan --format json | jq .cost.total
      for machines (the README lists the fields; schema_version says which)
  python -m drplan --stack dev --results drill-dev-1234.json
      the modeled recovery beside what the last `python -m drctl drill` measured
      for machines (the README lists the fields; schema_version says which)

exit codes:
  {EXIT_OK}  the plan was printed (and, with --check, every check passed)
  {EXIT_CHECK_FAILED}  --check: a check failed (modeled RTO over rtoTargetSeconds, an unpriced
     resource, a recovery that waits for an operator); each failure is on stderr
  {EXIT_BAD_INPUT}  bad input: an unknown stack, a --config that is not KEY=VALUE, or a
     configuration the program refuses (its message is on stderr)

Text output fits the terminal (or COLUMNS) and is coloured only on a terminal; piped, it is plain
text. Warnings (unknown config keys, values not decrypted offline, ESC environments not read)
are part of the plan, never failures.
"""


class _BadInput(Exception):
    """Input the plan cannot run with; the message is for stderr."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m drplan",
        description="Run the aurora-dr program under Pulumi's mock runtime and report what the "
        "stack would create, what it costs and how fast it recovers. Needs no AWS credentials "
        "and no Pulumi CLI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument(
        "--compare",
        metavar="STACK",
        help="compare with another stack: side by side, and what differs in the inventory and why",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the modeled RTO exceeds rtoTargetSeconds or a resource is unpriced",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key for this plan (repeatable), e.g. --config sizing=prod",
    )
    parser.add_argument(
        "--results",
        metavar="FILE",
        help="a `drctl drill` results file: show modeled vs last measured recovery",
    )
    return parser.parse_args(argv)


def _overrides(items: list[str]) -> dict[str, str | None]:
    overrides: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _BadInput(f"--config takes KEY=VALUE, got {item!r}")
        overrides[key] = value
    return overrides


def _review(stack: str, overrides: dict[str, str | None]) -> StackReview:
    try:
        return review(run_program(stack, overrides), overrides)
    except FileNotFoundError as error:
        raise _BadInput(str(error)) from error
    except ProgramFailed as failure:
        if not isinstance(failure.error, pulumi.RunError):
            raise  # a bug, not bad input: keep the traceback
        raise _BadInput(f"stack {stack!r}: {failure.error}") from failure


def _write(args: argparse.Namespace, reviews: list[StackReview], overrides) -> None:
    if len(reviews) > 1:
        settings = [stack_settings(reviews[0].stack, overrides), stack_settings(args.compare)]
        diff = difference(reviews, settings)
        if args.format == "json":
            sys.stdout.write(render.compare_json(reviews, diff) + "\n")
        elif args.format == "markdown":
            sys.stdout.write(render.compare_markdown(reviews, diff))
        else:
            terminal.print_compare(terminal.make_console(), reviews, diff)
    elif args.format == "json":
        sys.stdout.write(_with_measured_json(render.to_json(reviews[0]), args, reviews[0]) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.to_markdown(reviews[0]) + _measured(args, reviews[0], "markdown"))
    else:
        terminal.print_review(terminal.make_console(), reviews[0])
        sys.stdout.write(_measured(args, reviews[0], "text"))


def _measured(args: argparse.Namespace, review: StackReview, style: str) -> str:
    """The modeled-vs-measured section, when --results was given."""
    if not args.results:
        return ""
    rows = compare(review.budget, args.results_document)
    render_as = measured.to_markdown if style == "markdown" else measured.to_text
    return render_as(args.results_document, rows)


def _with_measured_json(text: str, args: argparse.Namespace, review: StackReview) -> str:
    if not args.results:
        return text
    document = json.loads(text)
    rows = compare(review.budget, args.results_document)
    document["measured"] = measured.to_json(args.results_document, rows)
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (see EPILOG)."""
    args = parse_args(argv)
    try:
        overrides = _overrides(args.config)
        args.results_document = load_results(args.results) if args.results else None
        reviews = [_review(args.stack, overrides)]
        if args.compare:
            reviews.append(_review(args.compare, {}))
    except (_BadInput, ResultsError) as error:
        print(f"drplan: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _write(args, reviews, overrides)
    failures = [f"{r.stack}: {f}" for r in reviews for f in r.failures]
    if args.check and failures:
        for problem in failures:
            print(f"drplan --check: {problem}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
