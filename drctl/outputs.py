"""The stack outputs drctl works from: `pulumi stack output --json --stack S`, or a file of it.

Outputs say what the stack deployed and where; who the writer is *now* is runtime state that
drctl always reads from AWS (`describe_global_clusters`), never from these.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `pulumi stack output` reads the backend; a hung backend must not hang an operator's command.
PULUMI_TIMEOUT_SECONDS = 120
REQUIRED = (
    "primaryRegion",
    "drRegion",
    "globalClusterId",
    "functionArns",
    "lockTableNames",
    "environmentSuffix",
)


class OutputsError(ValueError):
    """The outputs could not be read, or lack what drctl needs (the message says which)."""


@dataclass(frozen=True)
class StackOutputs:
    """What drctl needs from a stack's outputs."""

    primary_region: str
    dr_region: str
    global_cluster_id: str
    environment: str
    function_arns: Mapping[str, Mapping[str, str]]
    lock_tables: Mapping[str, str]
    backup_buckets: Mapping[str, str]
    alert_topics: Mapping[str, str]

    @property
    def regions(self) -> tuple[str, str]:
        """(configured primary, configured DR): the stack's configuration, not today's roles."""
        return self.primary_region, self.dr_region

    def peer_of(self, region: str) -> str:
        """The other region of the pair."""
        return self.dr_region if region == self.primary_region else self.primary_region

    def function_arn(self, key: str, region: str) -> str:
        """The ARN of DR function `key` (e.g. `failover_coordinator`) in `region`."""
        arn = self.function_arns.get(key, {}).get(region)
        if not arn:
            raise OutputsError(f"the stack outputs have no {key} function in {region}")
        return arn


def parse_outputs(raw: Any) -> StackOutputs:
    """Build `StackOutputs` from the JSON object `pulumi stack output --json` prints."""
    if not isinstance(raw, Mapping):
        raise OutputsError("stack outputs must be a JSON object")
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise OutputsError(
            f"the stack outputs lack {', '.join(missing)}: run `pulumi up` with this version of "
            "the program (older stacks did not export them)"
        )
    regions = (raw["primaryRegion"], raw["drRegion"])
    roles = {"primary": regions[0], "dr": regions[1]}

    def by_region(suffix: str) -> dict[str, str]:
        return {
            region: raw[f"{role}{suffix}"]
            for role, region in roles.items()
            if f"{role}{suffix}" in raw
        }

    return StackOutputs(
        primary_region=regions[0],
        dr_region=regions[1],
        global_cluster_id=raw["globalClusterId"],
        environment=raw["environmentSuffix"],
        function_arns=raw["functionArns"],
        lock_tables=raw["lockTableNames"],
        backup_buckets=by_region("BackupBucket"),
        alert_topics=by_region("AlertTopicArn"),
    )


def load_outputs(*, stack: str | None, outputs_file: str | None) -> StackOutputs:
    """The outputs from `outputs_file`, else from the Pulumi CLI for `stack`."""
    if outputs_file:
        try:
            text = Path(outputs_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise OutputsError(f"cannot read --outputs {outputs_file}: {exc.strerror}") from None
        return parse_outputs(_json(text, f"--outputs {outputs_file}"))
    if not stack:
        raise OutputsError("say which stack: --stack NAME (needs the pulumi CLI) or --outputs FILE")
    return parse_outputs(_json(_pulumi_outputs(stack), f"pulumi stack output --stack {stack}"))


def _pulumi_outputs(stack: str) -> str:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "the pulumi CLI is not on PATH: save `pulumi stack output --json --stack "
            f"{stack}` to a file elsewhere and pass it with --outputs FILE"
        )
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [pulumi, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OutputsError(
            f"pulumi stack output did not answer in {PULUMI_TIMEOUT_SECONDS} s"
        ) from None
    if done.returncode != 0:
        raise OutputsError(f"pulumi stack output --stack {stack} failed: {done.stderr.strip()}")
    return done.stdout


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"{where} is not JSON (line {exc.lineno}): {exc.msg}") from None
