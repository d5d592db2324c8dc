"""PeerWatchTicker: the Express state machine that runs the peer watch every few seconds.

One per region. The region's health-check schedule rule (once a minute) gets a second target:
this state machine, started with `contract.WATCH_START_EVENT`; each execution ticks the watch
at its cadence for a minute (`decisions.peer_watch`). The ticker and the watch run outside the
VPC; only the health checker's SQL probe runs inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from decisions.iam import assume_role_policy, ticker_role_policy, ticker_start_policy
from decisions.peer_watch import ticker_definition
from lambdas.drcommon.contract import WATCH_START_EVENT
from stack.naming import Namer
from stack.regions import Region

EXPRESS = "EXPRESS"


@dataclass(frozen=True)
class PeerWatchTickerArgs:
    """Inputs of `PeerWatchTicker`."""

    region: Region
    namer: Namer
    partition: str
    watch: aws.lambda_.Function
    """The peer watch of this region: the ticker's one task."""
    tick_timeout_seconds: int
    """The watch's own timeout: a tick the state machine waits for no longer."""
    schedule_rule: aws.cloudwatch.EventRule
    """The region's once-a-minute health-check rule: it starts one execution a minute."""


class PeerWatchTicker(pulumi.ComponentResource):
    """The ticker of one region: its state machine and role, and the schedule target (with its
    role) that starts it."""

    state_machine: aws.sfn.StateMachine

    def __init__(
        self, name: str, args: PeerWatchTickerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:PeerWatchTicker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        physical = args.namer.regional(args.region.name, "peer-watch-ticker")
        role = self._role(f"{name}-role", physical, "states.amazonaws.com", child)
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=args.watch.arn.apply(lambda arn: json.dumps(ticker_role_policy(arn))),
            opts=child,
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            name=physical,
            type=EXPRESS,
            role_arn=role.arn,
            definition=args.watch.arn.apply(
                lambda arn: json.dumps(
                    ticker_definition(
                        partition=args.partition,
                        watch_arn=arn,
                        tick_timeout_seconds=args.tick_timeout_seconds,
                    )
                )
            ),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[policy])),
        )
        self._start_every_minute(name, args, child)
        self.register_outputs({"stateMachineArn": self.state_machine.arn})

    @staticmethod
    def _role(
        logical: str, physical: str, service: str, opts: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        return aws.iam.Role(
            logical,
            name=physical,
            description=f"aurora-dr peer watch ticker ({service}): least privilege",
            assume_role_policy=json.dumps(assume_role_policy(service)),
            opts=opts,
        )

    def _start_every_minute(
        self, name: str, args: PeerWatchTickerArgs, child: pulumi.ResourceOptions
    ) -> None:
        """The schedule rule's target: one execution a minute, started with a fixed input."""
        start_physical = args.namer.regional(args.region.name, "peer-watch-start")
        start_role = self._role(f"{name}-start-role", start_physical, "events.amazonaws.com", child)
        start_policy = aws.iam.RolePolicy(
            f"{name}-start-policy",
            role=start_role.id,
            policy=self.state_machine.arn.apply(lambda arn: json.dumps(ticker_start_policy(arn))),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-start",
            rule=args.schedule_rule.name,
            arn=self.state_machine.arn,
            role_arn=start_role.arn,
            input=json.dumps(WATCH_START_EVENT),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[start_policy])),
        )
