"""`python -m drctl`: the operator command (argparse: the standard library is enough for six
subcommands, and the operator's venv needs nothing beyond what `make plan` installs).

Every state change is one synchronous invocation of the failover coordinator in the target
region with its manual event, so its gates, lock and notifications apply; drctl's only direct
write is `unlock`'s conditional delete of the lock item.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from drctl import commands
from drctl.clients import ClientFactory, InvokeFailed, boto_factory
from drctl.commands import EXIT_ATTENTION, EXIT_REFUSED
from drctl.outputs import OutputsError

IAM = """\
operator permissions (IAM actions, on the stack's resources in both regions):
  status:     rds:DescribeGlobalClusters, dynamodb:GetItem (lock tables),
              cloudwatch:GetMetricStatistics, sns:ListSubscriptionsByTopic
  switchover, failover, failback: the above and lambda:InvokeFunction (the coordinators)
  unlock:     dynamodb:GetItem, dynamodb:DeleteItem (lock tables)
  drill:      the above, lambda:InvokeFunction (the DR health checker), cloudwatch:PutMetricData,
              s3:PutObject on drill-reports/ in the DR backup bucket, kms:GenerateDataKey on the
              DR region's key
credentials: boto3's default chain (AWS_PROFILE, SSO, ...); AWS_ENDPOINT_URL is honoured.
exit codes: 0 done / nothing needs a human; 1 something needs a human or the coordinator did
  not complete the request; 2 refused before anything was sent (bad input, not confirmed).
"""
EXAMPLES = {
    "status": "python -m drctl status --stack prod\n  python -m drctl status --outputs prod-outputs.json --json",
    "switchover": "python -m drctl switchover --stack prod --to us-west-2\n  python -m drctl switchover --stack prod --to us-west-2 --dry-run",
    "failover": "python -m drctl failover --stack prod --to us-west-2 --allow-data-loss",
    "failback": "python -m drctl failback --stack prod",
    "unlock": "python -m drctl unlock --stack prod",
    "drill": "python -m drctl drill --stack dev\n  python -m drctl drill --stack dev --unplanned --results drill.json",
}
HELP = {
    "status": "the global cluster as AWS sees it now; exit 1 when a human is needed",
    "switchover": "planned switchover to a region (no data loss), through its coordinator",
    "failover": "unplanned failover to a region (may lose data): needs --allow-data-loss",
    "failback": "switchover back to the configured primary once it is in sync",
    "unlock": "clear a stale or failed coordinator lock (shows holder and age first)",
    "drill": "switchover to DR and back under a heartbeat writer; measures RTO and RPO",
}


@dataclass
class Runtime:
    """drctl's IO, replaceable by tests: AWS clients, the clock, the operator's answers and
    the modeled recovery figures of a stack (drplan's budget)."""

    factory: Callable[[], ClientFactory] = boto_factory
    time: Callable[[], float] = _time.time
    sleep: Callable[[float], None] = _time.sleep
    ask: Callable[[str], str] = input
    modeled: Callable[[str], dict[str, float]] = field(default=commands.modeled_seconds)

    def now(self) -> dt.datetime:
        """The current UTC time."""
        return dt.datetime.fromtimestamp(self.time(), dt.UTC)


RUNTIME = Runtime()


def _common(sub: argparse.ArgumentParser, *, changes_state: bool) -> None:
    sub.add_argument("--stack", help="stack name: outputs from `pulumi stack output --json`")
    sub.add_argument("--outputs", metavar="FILE", help="the stack outputs as JSON (no pulumi CLI)")
    if changes_state:
        sub.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        sub.add_argument(
            "--dry-run", action="store_true", help="show what would happen, change nothing"
        )


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="python -m drctl",
        description="Operate an aurora-dr stack: status, switchover, failover, failback, unlock, "
        "drill. State changes go through the failover coordinator.",
        epilog="examples:\n  " + "\n  ".join(EXAMPLES.values()) + "\n\n" + IAM,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subs = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    made = {}
    for name in EXAMPLES:
        made[name] = subs.add_parser(
            name,
            help=HELP[name],
            description=HELP[name],
            epilog=f"example:\n  {EXAMPLES[name]}\n\n{IAM}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(made[name], changes_state=name != "status")
    made["status"].add_argument("--json", action="store_true", help="JSON for machines")
    for name in ("switchover", "failover"):
        made[name].add_argument(
            "--to", required=True, metavar="REGION", help="the new writer region"
        )
    made["failover"].add_argument(
        "--allow-data-loss",
        action="store_true",
        help="accept losing unreplicated writes (required)",
    )
    made["failover"].add_argument(
        "--force",
        action="store_true",
        help="ask the coordinator to pass its health, lag and sync gates",
    )
    made["unlock"].add_argument(
        "--region", help="the lock table's region (default: the one holding an item)"
    )
    made["drill"].add_argument(
        "--unplanned",
        action="store_true",
        help="FailoverGlobalCluster with data loss instead of a switchover",
    )
    made["drill"].add_argument(
        "--i-know", action="store_true", help="allow --unplanned on a stack with the prod sizing"
    )
    made["drill"].add_argument(
        "--results",
        metavar="FILE",
        help="where to write the results JSON (default: drill-<stack>-<run>.json)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit code (see `IAM`)."""
    args = parser().parse_args(argv)
    run = getattr(commands, f"run_{args.command}")
    try:
        return int(run(args, RUNTIME))
    except (OutputsError, commands.Refused) as exc:
        print(f"drctl {args.command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (ClientError, BotoCoreError, InvokeFailed) as exc:
        # E.g. the coordinator busy (TooManyRequestsException: reserved concurrency) or a
        # permission the operator lacks: what AWS said, and no traceback.
        print(f"drctl {args.command}: AWS: {exc}", file=sys.stderr)
        return EXIT_ATTENTION
