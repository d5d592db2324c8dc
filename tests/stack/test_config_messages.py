"""Every configuration problem's exact words: what is wrong, with which key, and the fix.

`test_config.py` shows that a bad key stops the program before any resource (a whole program
run per row, so it checks fragments). The message is what a user reads instead of a deployment,
so here each check's full text is pinned through `parse_settings` alone: a changed hint, a
dropped fix or a lost value is a failing test.
"""

from __future__ import annotations

import pytest

from stack.config import ConfigError, parse_settings

MESSAGES = [
    (
        {"environmentSuffix": None},
        [
            "environmentSuffix is required: `pulumi config set environmentSuffix <name>` "
            "(e.g. dev, pr-123)."
        ],
    ),
    (
        {"environmentSuffix": "dev--1"},
        [
            "environmentSuffix 'dev--1' is malformed: use 1-16 lowercase letters, digits and "
            "single '-', starting with a letter and not ending with '-' (it ends every physical "
            "name, and RDS identifiers allow nothing else)."
        ],
    ),
    (
        {"primaryVpcCidr": "10.0.0.1/16"},
        [
            "primaryVpcCidr '10.0.0.1/16' is not a CIDR block: use the network address, e.g. "
            "10.0.0.0/16."
        ],
    ),
    (
        {"primaryVpcCidr": "fd00::/64"},
        ["primaryVpcCidr 'fd00::/64' is IPv6: use a private IPv4 range such as 10.0.0.0/16."],
    ),
    (
        {"primaryVpcCidr": "10.0.0.0/25"},
        [
            "primaryVpcCidr '10.0.0.0/25' has prefix /25: use /16 to /24 (three subnets are "
            "carved out of it)."
        ],
    ),
    (
        {"drVpcCidr": "8.8.0.0/16"},
        [
            "drVpcCidr '8.8.0.0/16' is not a private range: use 10.0.0.0/8, 172.16.0.0/12 or "
            "192.168.0.0/16 addresses."
        ],
    ),
    (
        {"drVpcCidr": "10.0.0.0/16"},
        [
            "primaryVpcCidr 10.0.0.0/16 and drVpcCidr 10.0.0.0/16 overlap: VPC peering needs "
            "disjoint ranges; set drVpcCidr to e.g. 10.1.0.0/16 (or primaryVpcCidr to e.g. "
            "10.1.0.0/16)."
        ],
    ),
    ({"sizing": "huge"}, ["sizing 'huge' is unknown: set it to one of prod, test."]),
    (
        {"primaryRegion": "mars-1", "drRegion": "Mars"},
        [
            "primaryRegion 'mars-1' is not an AWS region name: use e.g. us-east-1.",
            "drRegion 'Mars' is not an AWS region name: use e.g. us-east-1.",
        ],
    ),
    (
        {"drRegion": "us-east-1"},
        [
            "primaryRegion and drRegion are both 'us-east-1': a global database needs two "
            "regions; set drRegion to another region (e.g. us-west-2)."
        ],
    ),
    (
        {"databaseName": "1db", "masterUsername": "Admin", "engineVersion": "16"},
        [
            "databaseName '1db' is malformed: use 1-63 lowercase letters, digits and '_', "
            "starting with a letter.",
            "masterUsername 'Admin' is malformed: use 1-16 lowercase letters, digits and '_', "
            "starting with a letter.",
            "engineVersion '16' is malformed: use an aurora-postgresql major.minor such as 16.6.",
        ],
    ),
    (
        {"masterUsername": "rdsadmin"},
        ["masterUsername 'rdsadmin' is reserved by RDS: choose another, e.g. dbadmin."],
    ),
    (
        {"alertEmail": "ops@"},
        [
            "alertEmail 'ops@' is not an email address: use name@example.com, or `pulumi config "
            "rm alertEmail` for no subscription."
        ],
    ),
    (
        {"alertHttpsEndpoint": "http://x"},
        [
            "alertHttpsEndpoint is not an https URL: use the incident tool's SNS integration URL "
            "(`pulumi config set --secret alertHttpsEndpoint https://...`), or `pulumi config rm "
            "alertHttpsEndpoint`."
        ],
    ),
    (
        {"sizing": "prod"},
        [
            "sizing 'prod' requires someone its alarms reach, and neither alertEmail nor "
            "alertHttpsEndpoint is set: `pulumi config set alertEmail oncall@yourcompany.com` (a "
            "monitored address; confirm the email SNS sends), or `pulumi config set --secret "
            "alertHttpsEndpoint https://...` for an incident tool's SNS integration."
        ],
    ),
    (
        {"dnsZoneName": "bad_zone"},
        [
            "dnsZoneName 'bad_zone' is not a DNS name: use lowercase labels joined by dots, e.g. "
            "db.internal."
        ],
    ),
    (
        {"team": "a&b"},
        [
            "team 'a&b' cannot be an AWS tag value: use at most 256 letters, digits, spaces and "
            "_ . : / = + - @."
        ],
    ),
    (
        {"rtoTargetSeconds": "5m"},
        [
            "rtoTargetSeconds '5m' is not a number of seconds: use a whole number from 60 to "
            "86400 (e.g. 300)."
        ],
    ),
    (
        {"complianceEndpoints": "yes"},
        ["complianceEndpoints 'yes' is not a boolean: set it to true or false."],
    ),
]


@pytest.mark.parametrize(("overrides", "problems"), MESSAGES)
def test_each_problem_is_stated_with_its_key_its_value_and_its_fix(overrides, problems):
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "dev", **overrides})
    assert error.value.problems == problems


def test_the_error_lists_every_problem_on_its_own_line_under_a_count():
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "dev", "drRegion": "us-east-1", "sizing": "x"})
    assert str(error.value) == (
        "invalid stack configuration (2 problem(s)):\n"
        "  - sizing 'x' is unknown: set it to one of prod, test.\n"
        "  - primaryRegion and drRegion are both 'us-east-1': a global database needs two "
        "regions; set drRegion to another region (e.g. us-west-2)."
    )


# -- the edges of what is accepted -------------------------------------------------------------


def test_a_master_username_of_sixteen_characters_is_accepted_and_seventeen_is_not():
    assert parse_settings({"environmentSuffix": "dev", "masterUsername": "a" * 16}).master_username
    with pytest.raises(ConfigError) as error:
        parse_settings({"environmentSuffix": "dev", "masterUsername": "a" * 17})
    assert error.value.problems == [
        f"masterUsername {'a' * 17!r} is malformed: use 1-16 lowercase letters, digits and '_', "
        "starting with a letter."
    ]


@pytest.mark.parametrize("seconds", ["60", "86400"])
def test_the_rto_target_accepts_both_ends_of_its_range(seconds):
    settings = parse_settings({"environmentSuffix": "dev", "rtoTargetSeconds": seconds})
    assert settings.rto_target_seconds == int(seconds)


def test_a_zone_name_written_with_its_final_dot_is_the_same_zone():
    settings = parse_settings({"environmentSuffix": "dev", "dnsZoneName": "db.internal."})
    assert settings.dns_zone_name == "db.internal"


def test_an_empty_value_takes_the_keys_default():
    settings = parse_settings({"environmentSuffix": "dev", "sizing": "", "drRegion": ""})
    assert (settings.sizing, settings.dr_region) == ("test", "us-west-2")


def test_the_provenance_keys_become_the_stacks_tag_values():
    settings = parse_settings(
        {
            "environmentSuffix": "pr-7",
            "repository": "acme/aurora-dr",
            "commitAuthor": "jane",
            "prNumber": "7",
            "team": "data-platform",
        }
    )
    tags = settings.tags
    assert (tags.environment, tags.repository, tags.author, tags.pr_number, tags.team) == (
        "pr-7",
        "acme/aurora-dr",
        "jane",
        "7",
        "data-platform",
    )
