"""AWS clients from the operator's own credentials: boto3's default chain, so `AWS_PROFILE`,
SSO, instance roles and `AWS_ENDPOINT_URL` (a local emulator) all work as boto3 documents them.

Reads retry a few times; an invocation that changes state is sent exactly once (botocore retries
a timed-out invoke, which would run the coordinator a second time) and waits longer than the
function's own timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from decisions.functions import FUNCTIONS_BY_KEY

# Beyond the function's timeout: Lambda's own overhead of a synchronous invoke.
INVOKE_ALLOWANCE_SECONDS = 20.0
READ_CONFIG = Config(
    connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
)

ClientFactory = Callable[..., Any]
"""`factory(service, region, config=None)` -> a boto3 client (tests pass moto's or stubbed)."""


class InvokeFailed(RuntimeError):
    """A function raised (Lambda's `FunctionError`): its error message is in the text."""


def boto_factory() -> ClientFactory:
    """Clients of one boto3 session (the default credential chain)."""
    session = boto3.Session()

    def client(service: str, region: str, config: Config | None = None) -> Any:
        return session.client(service, region_name=region, config=config or READ_CONFIG)

    return client


def invoke_config(function_key: str) -> Config:
    """One attempt, and a read timeout past the function's timeout (`decisions.functions`)."""
    timeout = FUNCTIONS_BY_KEY[function_key].timeout_seconds + INVOKE_ALLOWANCE_SECONDS
    return Config(connect_timeout=5, read_timeout=timeout, retries={"total_max_attempts": 1})


@dataclass(frozen=True)
class Invoker:
    """Synchronous invocations of the stack's functions."""

    factory: ClientFactory

    def __call__(self, function_key: str, arn: str, payload: Mapping[str, Any]) -> Any:
        """Invoke `arn` (function `function_key`) with `payload`; its decoded answer.

        Raises `InvokeFailed` when the function raised (e.g. the coordinator's `InvalidEvent`).
        """
        region = arn.split(":")[3]
        client = self.factory("lambda", region, config=invoke_config(function_key))
        response = client.invoke(
            FunctionName=arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, dict) else body
            raise InvokeFailed(f"{function_key} in {region} raised: {message}")
        return body
