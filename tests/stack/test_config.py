"""The configuration contract: defaults, and every bad input stopped before any resource."""

from __future__ import annotations

import ipaddress

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drplan.harness import ProgramFailed, run_program
from stack.config import (
    DEFAULT_ENGINE_VERSION,
    MAX_PREFIX,
    MAX_SUFFIX_LENGTH,
    MIN_PREFIX,
    PRIVATE_NETWORKS,
    ConfigError,
    NetworkSettings,
    free_range,
    parse_settings,
)


def test_defaults_follow_the_design():
    settings = parse_settings({"environmentSuffix": "dev"})
    assert (settings.primary_region, settings.dr_region) == ("us-east-1", "us-west-2")
    assert (settings.primary_vpc_cidr, settings.dr_vpc_cidr) == ("10.0.0.0/16", "10.1.0.0/16")
    assert settings.sizing == "test"
    assert settings.database_name == "appdb" and settings.master_username == "dbadmin"
    assert settings.engine_version == DEFAULT_ENGINE_VERSION
    assert settings.alert_email is None
    assert settings.private_zone_name == "dev.db.internal"
    assert settings.compliance_endpoints is False
    assert parse_settings({"environmentSuffix": "x", "complianceEndpoints": "True"}).network == (
        NetworkSettings(DEFAULT_ENGINE_VERSION, compliance_endpoints=True)
    )


@pytest.mark.parametrize(("sizing", "target"), [("test", 300), ("prod", 120)])
def test_the_rto_target_defaults_to_the_sizings_and_config_overrides_it(sizing, target):
    # GIVEN no rtoTargetSeconds: the sizing's objective; GIVEN one: that one
    stack = {"environmentSuffix": "x", "sizing": sizing, "alertEmail": "oncall@example.com"}
    assert parse_settings(stack).rto_target_seconds == target
    configured = {**stack, "rtoTargetSeconds": "900"}
    assert parse_settings(configured).rto_target_seconds == 900


def test_an_unknown_sizing_is_reported_alone_not_as_a_bad_rto_target():
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "x", "sizing": "huge"})
    assert error.value.problems == ["sizing 'huge' is unknown: set it to one of prod, test."]


def test_pulumi_yaml_declares_every_key_with_config_py_defaults():
    import yaml

    from drplan.harness import PROJECT_DIR
    from stack.config import CONFIG_KEYS, DEFAULTS, SIZING_DEFAULTS

    schema = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    assert set(schema) == set(CONFIG_KEYS)
    for key, entry in schema.items():
        assert entry.get("description"), f"{key} has no description"
        assert entry.get("type") in {"string", "integer", "boolean"}
        if key in DEFAULTS:
            default = entry["default"]
            expected = str(default).lower() if entry["type"] == "boolean" else str(default)
            assert expected == DEFAULTS[key], key
    assert "default" not in schema["environmentSuffix"]
    # a schema default would reach the program as configured and hide the sizing's objective
    for key in SIZING_DEFAULTS:
        assert "default" not in schema[key], key


def test_the_compliance_endpoints_schema_names_the_controls_and_the_priced_monthly_cost():
    import yaml

    from decisions.network import COMPLIANCE_ENDPOINT_SERVICES
    from drplan.cost import load_prices
    from drplan.harness import PROJECT_DIR
    from stack.config import DEFAULTS
    from stack.sizing import SIZING

    # GIVEN the key's description and the price of an endpoint in one AZ for an hour
    entry = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"][
        "complianceEndpoints"
    ]
    prices = load_prices()
    regions = (DEFAULTS["primaryRegion"], DEFAULTS["drRegion"])
    hourly = {prices["regions"][r]["interface_endpoint_az_hour"] for r in regions}
    assert len(hourly) == 1, "one price in both default regions, else the description needs two"
    (price,) = hourly
    assert (entry["type"], entry["default"]) == ("boolean", False)
    # THEN it names every control and what the endpoints cost per month on each stack
    for control in COMPLIANCE_ENDPOINT_SERVICES.values():
        assert control in entry["description"]
    for stack, sizing in (("prod", "prod"), ("dev", "test")):
        monthly = (
            len(COMPLIANCE_ENDPOINT_SERVICES)
            * SIZING[sizing].endpoint_az_count
            * 2
            * prices["hours_per_month"]
            * price
        )
        assert f"${monthly:,.2f}/month on {stack}" in entry["description"]


BAD_CONFIG = [
    # (overrides, key named in the message, a fragment of the fix)
    ({"drVpcCidr": "10.0.128.0/17"}, "overlap", "set drVpcCidr"),
    (
        {"primaryVpcCidr": "10.1.16.0/20"},
        "primaryVpcCidr 10.1.16.0/20 and drVpcCidr 10.1.0.0/16 overlap",
        "set drVpcCidr",
    ),
    ({"drRegion": "us-east-1"}, "primaryRegion and drRegion", "set drRegion"),
    ({"sizing": "huge"}, "sizing 'huge' is unknown", "prod, test"),
    ({"environmentSuffix": "Dev_1"}, "environmentSuffix 'Dev_1' is malformed", "lowercase"),
    ({"environmentSuffix": "a" * (MAX_SUFFIX_LENGTH + 1)}, "environmentSuffix", "1-16"),
    ({"environmentSuffix": "dev-"}, "environmentSuffix 'dev-'", "not ending with '-'"),
    ({"environmentSuffix": None}, "environmentSuffix is required", "pulumi config set"),
    ({"alertEmail": "ops@"}, "alertEmail 'ops@' is not an email address", "name@example.com"),
    ({"primaryVpcCidr": "10.0.0.0/8"}, "primaryVpcCidr '10.0.0.0/8' has prefix /8", "/16 to /24"),
    ({"primaryVpcCidr": "10.0.0.0/25"}, "has prefix /25", "/16 to /24"),
    ({"drVpcCidr": "8.8.0.0/16"}, "drVpcCidr '8.8.0.0/16' is not a private range", "10.0.0.0/8"),
    ({"drVpcCidr": "10.1.0.1/16"}, "is not a CIDR block", "network address"),
    ({"masterUsername": "postgres"}, "masterUsername 'postgres' is reserved", "dbadmin"),
    ({"primaryRegion": "mars-1"}, "primaryRegion 'mars-1' is not an AWS region", "us-east-1"),
    ({"dnsZoneName": "bad_zone"}, "dnsZoneName 'bad_zone'", "db.internal"),
    ({"rtoTargetSeconds": "5m"}, "rtoTargetSeconds '5m'", "60 to 86400"),
    ({"complianceEndpoints": "yes"}, "complianceEndpoints 'yes' is not a boolean", "true or false"),
    (
        {"alertHttpsEndpoint": "http://events.example.com/x"},
        "alertHttpsEndpoint is not an https URL",
        "config set --secret alertHttpsEndpoint",
    ),
    (
        {"sizing": "prod"},
        "sizing 'prod' requires someone its alarms reach",
        "pulumi config set alertEmail",
    ),
]


@pytest.mark.parametrize(("overrides", "problem", "fix"), BAD_CONFIG)
def test_bad_configuration_stops_the_program_before_any_resource(overrides, problem, fix):
    # GIVEN the dev stack with one bad key
    # WHEN the program runs
    with pytest.raises(ProgramFailed) as failure:
        run_program("dev", overrides)
    # THEN it fails with a configuration error naming the key and the fix
    # (the program imports its own copy of stack/config.py, as under the CLI: compare by name)
    assert isinstance(failure.value.error, pulumi.RunError)
    assert type(failure.value.error).__name__ == ConfigError.__name__
    message = str(failure.value.error)
    assert problem in message and fix in message
    # AND nothing at all was registered (no provider, no resource, no component)
    assert failure.value.registrations == []


@pytest.mark.parametrize(
    ("primary", "dr", "free_dr", "free_primary"),
    [
        # the DR range inside the primary range
        ("10.0.0.0/16", "10.0.128.0/17", "10.1.0.0/17", "10.1.0.0/16"),
        # the primary range inside the DR range (the default drVpcCidr is 10.1.0.0/16)
        ("10.1.16.0/20", "10.1.0.0/16", "10.0.0.0/16", "10.0.0.0/20"),
        # the same range twice: what `--config primaryVpcCidr=10.1.0.0/16` does
        ("10.1.0.0/16", "10.1.0.0/16", "10.0.0.0/16", "10.0.0.0/16"),
        ("172.16.0.0/24", "172.16.0.0/20", "172.16.16.0/20", "172.16.16.0/24"),
        # the whole 192.168 block taken: the hint leaves it
        ("192.168.0.0/16", "192.168.4.0/22", "10.0.0.0/22", "10.0.0.0/16"),
    ],
)
def test_overlapping_vpc_ranges_are_refused_with_a_free_range_for_either_key(
    primary, dr, free_dr, free_primary
):
    # GIVEN two private ranges of valid size, one inside the other
    # WHEN the settings are parsed
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "dev", "primaryVpcCidr": primary, "drVpcCidr": dr})
    # THEN exactly one problem names both keys and both ranges, and suggests for each key a range
    # of its own size that is free of the other one (never the clashing range)
    (problem,) = error.value.problems
    assert problem == (
        f"primaryVpcCidr {primary} and drVpcCidr {dr} overlap: VPC peering needs disjoint "
        f"ranges; set drVpcCidr to e.g. {free_dr} (or primaryVpcCidr to e.g. {free_primary})."
    )
    # AND each suggestion is accepted next to the range that stays
    parse_settings({"environmentSuffix": "dev", "primaryVpcCidr": primary, "drVpcCidr": free_dr})
    parse_settings({"environmentSuffix": "dev", "primaryVpcCidr": free_primary, "drVpcCidr": dr})


# Valid VPC ranges: a /16 to /24 network inside one of the private blocks.
vpc_ranges = st.builds(
    lambda block, offset, prefix: ipaddress.ip_network(
        f"{block.network_address + offset % block.num_addresses}/{prefix}", strict=False
    ),
    st.sampled_from(PRIVATE_NETWORKS),
    st.integers(min_value=0, max_value=2**24 - 1),
    st.integers(min_value=MIN_PREFIX, max_value=MAX_PREFIX),
)


@given(taken=vpc_ranges, prefixlen=st.integers(min_value=MIN_PREFIX, max_value=MAX_PREFIX))
def test_the_suggested_range_is_free_private_and_of_the_asked_size(taken, prefixlen):
    suggestion = free_range(taken, prefixlen)
    assert suggestion.prefixlen == prefixlen
    assert not suggestion.overlaps(taken)
    assert any(suggestion.subnet_of(block) for block in PRIVATE_NETWORKS)
    # AND the stack accepts it as the other VPC's range
    settings = parse_settings(
        {"environmentSuffix": "dev", "primaryVpcCidr": str(taken), "drVpcCidr": str(suggestion)}
    )
    assert settings.dr_vpc_cidr == str(suggestion)


@pytest.mark.parametrize(
    ("primary", "dr"),
    [
        ("10.0.0.0/16", "10.1.0.0/16"),
        ("10.0.0.0/17", "10.0.128.0/17"),
        ("10.1.0.0/16", "10.0.0.0/16"),
    ],
)
def test_adjacent_vpc_ranges_are_accepted(primary, dr):
    settings = parse_settings(
        {"environmentSuffix": "dev", "primaryVpcCidr": primary, "drVpcCidr": dr}
    )
    assert (settings.primary_vpc_cidr, settings.dr_vpc_cidr) == (primary, dr)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "", "sizing": "x", "drRegion": "us-east-1"})
    assert len(error.value.problems) == 3


@pytest.mark.parametrize("suffix", ["dev", "pr-123", "a", "team-a-prod", "x" * MAX_SUFFIX_LENGTH])
def test_well_formed_suffixes_are_accepted(suffix):
    assert parse_settings({"environmentSuffix": suffix}).environment_suffix == suffix


def test_alert_email_is_optional_and_validated():
    assert parse_settings({"environmentSuffix": "d", "alertEmail": ""}).alert_email is None
    settings = parse_settings({"environmentSuffix": "d", "alertEmail": "oncall@example.com"})
    assert settings.alert_email == "oncall@example.com"


PROD = {"environmentSuffix": "p", "sizing": "prod"}


@pytest.mark.parametrize(
    "subscriber",
    [
        {"alertEmail": "oncall@example.com"},
        {"alertHttpsEndpoint": "https://events.example.com/integration/KEY/enqueue"},
    ],
)
def test_prod_accepts_either_subscriber(subscriber):
    # GIVEN the prod sizing with an email address or an incident tool's endpoint: accepted
    settings = parse_settings({**PROD, **subscriber})
    assert len(settings.alert_subscribers) == 1


def test_prod_without_a_subscriber_names_both_keys_and_how_to_set_them():
    # GIVEN the prod sizing and neither key (empty values count as unset)
    with pytest.raises(ConfigError) as error:
        parse_settings({**PROD, "alertEmail": "", "alertHttpsEndpoint": " "})
    # THEN one problem names both keys and the command that fixes it
    (problem,) = error.value.problems
    assert "neither alertEmail nor alertHttpsEndpoint is set" in problem
    assert "`pulumi config set alertEmail" in problem
    # AND a test stack may go without (its alarms may go unread)
    assert parse_settings({"environmentSuffix": "d"}).alert_subscribers == ()


def test_subscribers_are_shown_without_an_endpoints_path():
    # GIVEN both subscribers; the URL's path carries the incident tool's integration key
    settings = parse_settings(
        {
            **PROD,
            "alertEmail": "oncall@example.com",
            "alertHttpsEndpoint": "https://events.example.com/integration/KEY123/enqueue",
        }
    )
    shown = [s.shown for s in settings.alert_subscribers]
    # THEN the email is shown whole and the endpoint by its host only
    assert shown == ["email:oncall@example.com", "https://events.example.com/..."]
    assert not any("KEY123" in text for text in shown)


def test_a_bad_https_endpoint_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as error:
        parse_settings({**PROD, "alertHttpsEndpoint": "events.example.com/KEY123"})
    assert not any("KEY123" in problem for problem in error.value.problems)
