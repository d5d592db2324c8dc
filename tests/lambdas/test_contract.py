"""The environment contract: each function reads exactly its contract's names, spelled only there."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from drcommon import contract
from drcommon.contract import FUNCTION_ENV, Presence

LAMBDAS_DIR = Path(contract.__file__).resolve().parents[1]

# A valid value for every variable a function needs to start (the required ones, and AWS_REGION
# where the runtime sets it); the optional ones are left unset so their defaults apply.
MINIMAL_ENV: dict[str, dict[str, str]] = {
    "failover_coordinator": {
        "AWS_REGION": "us-west-2",
        "GLOBAL_CLUSTER_ID": "gdb",
        "PEER_REGION": "us-east-1",
        "ENVIRONMENT_SUFFIX": "dev",
        "LOCAL_PROBE_ALARM_NAME": "probe-usw2",
        "LOCAL_WRITER_ALARM_NAME": "writer-usw2",
        "PEER_PROBE_ALARM_NAME": "probe-use1",
        "PEER_WRITER_ALARM_NAME": "writer-use1",
        "LOCAL_DRAINER_FUNCTION_NAME": "drainer-usw2",
        "PEER_DRAINER_FUNCTION_NAME": "drainer-use1",
        "LOCAL_LOCK_TABLE_NAME": "locks-usw2",
        "PEER_LOCK_TABLE_NAME": "locks-use1",
        "SNS_TOPIC_ARN": "arn:aws:sns:us-west-2:123456789012:alerts",
        "LAG_BUDGET_MS": "5000",
    },
    "health_checker": {
        "ENVIRONMENT_SUFFIX": "dev",
        "LOCAL_REGION": "us-east-1",
        "PEER_REGION": "us-west-2",
        "DB_SECRET_ID": "db",
        "CLUSTER_ENDPOINT": "writer.example.internal",
        "READER_ENDPOINT": "reader.example.internal",
        "PEER_CLUSTER_ENDPOINT": "peer.example.internal",
    },
    "peer_watch": {
        "AWS_REGION": "us-west-2",
        "ENVIRONMENT_SUFFIX": "dev",
        "PEER_REGION": "us-east-1",
        "GLOBAL_CLUSTER_ID": "gdb",
        "HEALTH_CHECKER_FUNCTION_NAME": "checker-usw2",
        "COORDINATOR_FUNCTION_NAME": "coordinator-usw2",
    },
    "connection_drainer": {
        "LOCAL_REGION": "us-west-2",
        "PEER_REGION": "us-east-1",
        "CLUSTER_ENDPOINT": "dr.example.internal",
        "PEER_CLUSTER_ENDPOINT": "primary.example.internal",
        "DB_SECRET_ID": "db",
    },
    "secret_rotation": {"LOCAL_REGION": "us-east-1"},
    "backup_verifier": {
        "AWS_REGION": "us-west-2",
        "GLOBAL_CLUSTER_ID": "gdb",
        "ENVIRONMENT_SUFFIX": "dev",
        "PEER_REGION": "us-east-1",
        "SNS_TOPIC_ARN": "arn:aws:sns:us-west-2:123456789012:alerts",
        "DR_KMS_KEY_ID": "arn:aws:kms:us-west-2:123456789012:key/0123abcd",
    },
}


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name asked for, set or not."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(str(name))
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def contract_names() -> set[str]:
    """Every environment variable name of every function."""
    return {str(name) for group in FUNCTION_ENV.values() for name in group}


def test_the_contract_covers_the_six_functions():
    packages = {path.parent.name for path in LAMBDAS_DIR.glob("*/handler.py")}
    assert set(FUNCTION_ENV) == packages == set(MINIMAL_ENV)


@pytest.mark.parametrize("function", sorted(FUNCTION_ENV))
def test_each_function_reads_exactly_the_variables_of_its_contract(function: str):
    """GIVEN the function's minimal environment WHEN its settings are read THEN every name the
    contract lists is looked up, and no other."""
    env = RecordingEnv(MINIMAL_ENV[function])
    importlib.import_module(f"{function}.settings").Settings.from_env(env)
    assert env.asked == {str(name) for name in FUNCTION_ENV[function]}


@pytest.mark.parametrize("function", sorted(FUNCTION_ENV))
def test_what_a_function_needs_to_start_is_what_the_contract_requires(function: str):
    """GIVEN the contract WHEN the stack sets only the required names THEN the function starts,
    and without any one of them it does not."""
    group = FUNCTION_ENV[function]
    needed = {str(name) for name in group.having(Presence.REQUIRED, Presence.RUNTIME)}
    assert set(MINIMAL_ENV[function]) == needed
    settings = importlib.import_module(f"{function}.settings")
    for name in needed:
        env = {k: v for k, v in MINIMAL_ENV[function].items() if k != name}
        with pytest.raises(settings.SettingsError, match=name):
            settings.Settings.from_env(env)


def test_each_name_is_spelled_like_the_variable():
    for group in FUNCTION_ENV.values():
        assert [member.name for member in group] == [str(member) for member in group]


def test_only_the_runtime_sets_aws_region():
    for group in FUNCTION_ENV.values():
        runtime = {str(name) for name in group.having(Presence.RUNTIME)}
        assert runtime <= {"AWS_REGION"}
        assert not runtime & {str(name) for name in group.settable()}


def test_environment_names_are_spelled_only_in_the_contract():
    """GIVEN every Lambda source file WHEN searched THEN no contract name appears as a string
    literal outside `drcommon/contract.py` (a second spelling would drift from the stack's)."""
    names = contract_names()
    contract_file = Path(contract.__file__).resolve()
    offenders = []
    for path in sorted(LAMBDAS_DIR.rglob("*.py")):
        if path.resolve() == contract_file:
            continue
        text = path.read_text()
        offenders += [
            f"{path.relative_to(LAMBDAS_DIR)}: {name}"
            for name in sorted(names)
            if f'"{name}"' in text or f"'{name}'" in text
        ]
    assert offenders == []
