"""`python -m drplan --stack dev`: the offline plan of a stack, without AWS or the Pulumi CLI.

Inventory (what the stack creates, per region and component), monthly cost, the recovery-time
and recovery-point budget, and the checks a pull request must pass (`--check`).
"""

from __future__ import annotations

import argparse
import sys

import pulumi

from drplan.harness import ProgramFailed, run_program
from drplan.render import compare, to_json, to_markdown, to_text
from drplan.review import StackReview, review


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m drplan",
        description="Run the aurora-dr program under Pulumi's mock runtime and report what the "
        "stack would create, what it costs and how fast it recovers. Needs no AWS credentials "
        "and no Pulumi CLI.",
    )
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--compare", metavar="STACK", help="show another stack side by side")
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
    return parser.parse_args(argv)


def _review(stack: str, overrides: dict[str, str | None]) -> StackReview:
    return review(run_program(stack, overrides), overrides)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 check failed, 2 bad input)."""
    args = parse_args(argv)
    overrides: dict[str, str | None] = {}
    for item in args.config:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"drplan: --config takes KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = value
    stacks = [args.stack] + ([args.compare] if args.compare else [])
    reviews = []
    for stack in stacks:
        try:
            reviews.append(_review(stack, overrides if stack == args.stack else {}))
        except FileNotFoundError as error:
            print(f"drplan: {error}", file=sys.stderr)
            return 2
        except ProgramFailed as failure:
            if not isinstance(failure.error, pulumi.RunError):
                raise  # a bug, not bad input: keep the traceback
            print(f"drplan: stack {stack!r}: {failure.error}", file=sys.stderr)
            return 2
    if args.format == "json":
        if len(reviews) == 1:
            sys.stdout.write(to_json(reviews[0]) + "\n")
        else:
            sys.stdout.write("[" + ",\n".join(to_json(r) for r in reviews) + "]\n")
    else:
        render = to_markdown if args.format == "markdown" else to_text
        if len(reviews) > 1:
            sys.stdout.write(compare(reviews, markdown=args.format == "markdown") + "\n")
        for item in reviews:
            sys.stdout.write(render(item) + "\n")
    failures = [f"{r.stack}: {f}" for r in reviews for f in r.failures]
    if args.check and failures:
        for problem in failures:
            print(f"drplan --check: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
