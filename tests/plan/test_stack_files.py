"""Stack files as Pulumi writes them: encrypted values, ESC environments, and typos in keys.

The plan must take a stack file that `pulumi config set --secret` has touched, say what it could
not read, and still plan; and it must never turn the program's validation off for `pulumi up`,
where every value arrives decrypted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drplan import harness
from drplan.__main__ import main
from drplan.review import review
from drplan.stack_files import (
    UnknownSecret,
    config_string,
    esc_environments,
    read_stack_config,
    unknown_key_warning,
)
from stack.config import CONFIG_KEYS, ConfigError, is_unknown_secret, parse_settings

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
# What `pulumi config set --secret alertEmail oncall@example.com` leaves in a stack file.
SECURE_ALERT_EMAIL = "AAABAJk0mEI8lnW1vkZ0Ev6k8hGmFz1sbT0ReZx7zYg2q8cXK4YVdW0="
SECRET_STACK = f"""\
config:
  aurora-dr:environmentSuffix: sec
  aurora-dr:rtoTargetSeconds: "600"
  aurora-dr:alertEmail:
    secure: {SECURE_ALERT_EMAIL}
  aurora-dr:sizng: prod
environment:
  - platform/aws-prod
"""


def _read_from(directory: Path):
    """`harness.read_stack_config` reading stack files from `directory` instead."""
    return lambda stack, _project: read_stack_config(stack, directory)


@pytest.fixture(scope="module")
def secret_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the real `Pulumi.yaml` and a stack file `Pulumi.sec.yaml` holding a
    `secure:` alertEmail, a typo and an ESC import."""
    directory = tmp_path_factory.mktemp("secret-stack")
    shutil.copy(harness.PROJECT_DIR / "Pulumi.yaml", directory / "Pulumi.yaml")
    (directory / "Pulumi.sec.yaml").write_text(SECRET_STACK)
    return directory


@pytest.fixture(scope="module")
def secret_run(secret_files: Path) -> harness.PlanRun:
    """One run of the real program for stack `sec`, shared by this module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness, "read_stack_config", _read_from(secret_files))
        return harness.run_program("sec")


@pytest.fixture
def secret_stack(monkeypatch: pytest.MonkeyPatch, secret_files: Path, secret_run, served_runs):
    """Stack `sec` for the review and the CLI: its files read from `secret_files`, its run
    served from `secret_run`."""
    monkeypatch.setattr(harness, "read_stack_config", _read_from(secret_files))
    served_runs["sec"] = secret_run
    return "sec"


def test_a_stack_file_with_a_secure_value_plans_and_says_what_it_could_not_read(
    secret_stack, secret_run
):
    # WHEN the stack is planned
    run = secret_run
    result = review(run)
    # THEN the program ran: the alert subscription exists in both regions (its address unknown)
    subscriptions = run.of_type(SUBSCRIPTION)
    assert {s.region for s in subscriptions} == {"us-east-1", "us-west-2"}
    assert all(SECURE_ALERT_EMAIL not in str(s.inputs) for s in subscriptions)
    # AND nothing fails, and the warnings name the undecrypted key, the typo and the ESC import
    assert result.failures == []
    assert result.warnings == [
        "Pulumi.sec.yaml: unknown config key 'sizng' (did you mean 'sizing'?); the plan ignores it",
        "Pulumi.sec.yaml: aurora-dr:alertEmail is a secure value, not decrypted offline: its "
        "checks are skipped and the plan uses a stand-in",
        "Pulumi.sec.yaml imports ESC environment(s) platform/aws-prod: their values are not "
        "available offline; keys set only there take Pulumi.yaml defaults in this plan",
    ]


@pytest.mark.usefixtures("secret_stack")
def test_the_pull_request_check_passes_on_a_secure_value_and_shows_the_warnings(capsys):
    assert main(["--stack", "sec", "--format", "markdown", "--check"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "## Warnings" in captured.out
    assert "aurora-dr:alertEmail is a secure value, not decrypted offline" in captured.out


@pytest.mark.usefixtures("served_runs")
def test_a_typo_in_an_override_warns_with_the_closest_key_and_the_plan_runs(capsys):
    assert main(["--stack", "dev", "--config", "sizng=prod", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "--config: unknown config key 'sizng' (did you mean 'sizing'?)" in out
    # AND the override changed nothing: dev keeps its test sizing
    assert "sizing `test`" in out


@pytest.mark.parametrize(
    ("key", "warning"),
    [
        ("sizing", None),
        ("aurora-dr:drRegion", None),
        ("aws:region", None),  # another namespace: not ours to judge
        ("aurora-dr:drRegon", "x: unknown config key 'drRegion'"),
        ("alertEmial", "x: unknown config key 'alertEmial' (did you mean 'alertEmail'?)"),
        ("colour", "x: unknown config key 'colour' (the program does not read it)"),
    ],
)
def test_unknown_keys_of_the_project_namespace_are_named_with_the_closest_known(key, warning):
    found = unknown_key_warning(key, CONFIG_KEYS, "x")
    if warning is None:
        assert found is None
    elif key == "aurora-dr:drRegon":
        assert (
            found
            == "x: unknown config key 'drRegon' (did you mean 'drRegion'?); the plan ignores it"
        )
    else:
        assert found is not None and found.startswith(warning)


@pytest.mark.parametrize(
    ("value", "encrypted"),
    [
        ({"secure": "AAAB"}, True),
        ({"nested": {"secure": "AAAB"}}, True),  # a secret path inside an object
        ([1, {"secure": "AAAB"}], True),
        ({"secure": "AAAB", "other": 1}, False),  # an object that happens to have the key
        ("secure", False),
        ({"a": 1}, False),
    ],
)
def test_encrypted_values_anywhere_in_a_value_are_unknown(value, encrypted):
    assert is_unknown_secret(config_string(value)) is encrypted


@pytest.mark.parametrize(
    ("block", "names"),
    [
        (None, ()),
        (["team/base", "team/prod"], ("team/base", "team/prod")),
        ({"imports": ["team/base"]}, ("team/base",)),
        ({"imports": [{"team/prod": {"merge": False}}]}, ("team/prod",)),
        ("team/base", ("team/base",)),
    ],
)
def test_esc_environment_blocks_in_each_of_their_forms(block, names):
    assert esc_environments(block) == names


def test_only_the_plans_marker_skips_validation_never_a_plain_value():
    # GIVEN the plan's marker for an undecrypted alertEmail: accepted, named, planned as a stand-in
    settings = parse_settings({"environmentSuffix": "dev", "alertEmail": UnknownSecret()})
    assert settings.undecrypted == ("alertEmail",)
    assert settings.alert_email == "secret"
    # AND an undecrypted key with a default is planned with its default
    settings = parse_settings({"environmentSuffix": "dev", "drVpcCidr": UnknownSecret()})
    assert settings.dr_vpc_cidr == "10.1.0.0/16" and settings.undecrypted == ("drVpcCidr",)
    # AND one whose default is the sizing's is planned with the sizing's
    settings = parse_settings(
        {
            "environmentSuffix": "dev",
            "sizing": "prod",
            "alertEmail": "oncall@example.com",
            "rtoTargetSeconds": UnknownSecret(),
        }
    )
    assert settings.rto_target_seconds == 120 and settings.undecrypted == ("rtoTargetSeconds",)
    # BUT the same text as a plain value (what `pulumi up` passes) is validated as always
    with pytest.raises(ConfigError, match=r"alertEmail 'secret' is not an email address"):
        parse_settings({"environmentSuffix": "dev", "alertEmail": "secret"})
    assert parse_settings({"environmentSuffix": "dev"}).undecrypted == ()


def test_an_undecrypted_https_endpoint_is_a_subscriber_and_is_not_validated():
    # GIVEN prod, whose only subscriber is an encrypted alertHttpsEndpoint the plan cannot read
    settings = parse_settings(
        {"environmentSuffix": "prod", "sizing": "prod", "alertHttpsEndpoint": UnknownSecret()}
    )
    # THEN it is planned as set (someone is alerted), named as undecrypted, not refused as a
    # malformed URL
    assert settings.undecrypted == ("alertHttpsEndpoint",)
    assert settings.alert_https_endpoint


def test_a_value_that_only_looks_like_the_marker_is_validated():
    # an object with a truthy `unknown_secret` that is not True is not the plan's marker
    class Lookalike(str):
        unknown_secret = "yes"

    with pytest.raises(ConfigError, match=r"alertEmail 'x' is not an email address"):
        parse_settings({"environmentSuffix": "dev", "alertEmail": Lookalike("x")})
