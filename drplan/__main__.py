"""`python -m drplan --stack dev`: the offline plan of a stack, without AWS or the Pulumi CLI."""

from __future__ import annotations

import argparse
import sys

import pulumi

from drplan.harness import ProgramFailed, run_program
from drplan.inventory import build_inventory
from drplan.render import to_json, to_text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m drplan",
        description="Run the aurora-dr program under Pulumi's mock runtime and report what the "
        "stack would create. Needs no AWS credentials and no Pulumi CLI.",
    )
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key for this plan (repeatable), e.g. --config sizing=prod",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    overrides: dict[str, str | None] = {}
    for item in args.config:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"drplan: --config takes KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = value
    try:
        run = run_program(args.stack, overrides)
    except FileNotFoundError as error:
        print(f"drplan: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failure:
        if not isinstance(failure.error, pulumi.RunError):
            raise  # a bug, not bad input: keep the traceback
        print(f"drplan: stack {args.stack!r}: {failure.error}", file=sys.stderr)
        return 2
    inventory = build_inventory(run)
    sys.stdout.write(to_json(inventory) + "\n" if args.format == "json" else to_text(inventory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
