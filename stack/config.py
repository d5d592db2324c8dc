"""The stack configuration contract: one typed, validated read of `pulumi.Config`.

`parse_settings` is pure (a mapping of raw strings in, `StackSettings` out) so every rule is
table-tested without Pulumi; `load_settings` is the thin adapter the program calls. All problems
are reported at once, each naming the key and the fix, and the program stops before it registers a
single resource.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi

from stack.sizing import SIZING

PROJECT = "aurora-dr"

# The newest aurora-postgresql minor we have verified for global databases. One place: bump it
# here (and in Pulumi.yaml's schema default) after checking `aws rds describe-global-clusters`
# support with `aws rds describe-db-engine-versions --engine aurora-postgresql
# --query 'DBEngineVersions[?SupportsGlobalDatabases]'`.
DEFAULT_ENGINE_VERSION = "16.6"

DEFAULTS: Mapping[str, str] = {
    "sizing": "test",
    "primaryRegion": "us-east-1",
    "drRegion": "us-west-2",
    "primaryVpcCidr": "10.0.0.0/16",
    "drVpcCidr": "10.1.0.0/16",
    "databaseName": "appdb",
    "masterUsername": "dbadmin",
    "engineVersion": DEFAULT_ENGINE_VERSION,
    "dnsZoneName": "db.internal",
    "repository": "unknown",
    "commitAuthor": "unknown",
    "prNumber": "unknown",
    "team": "unknown",
    "complianceEndpoints": "false",
}
# Keys whose default is not one value but the sizing's: `rtoTargetSeconds` defaults to
# `Sizing.rto_target_seconds` (a production stack is held to a tighter objective than a test one).
SIZING_DEFAULTS = ("rtoTargetSeconds",)

# The suffix ends every physical name. The tightest limit it meets is 64 characters (IAM role and
# Lambda function names, which also carry the project, the function and a region code), so 16.
MAX_SUFFIX_LENGTH = 16
SUFFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
IDENTIFIER_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
DNS_NAME_PATTERN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
VERSION_PATTERN = re.compile(r"^\d+\.\d+$")
TAG_VALUE_PATTERN = re.compile(r"^[\w\s.:/=+\-@]{1,256}$")
# RDS reserves these; `postgres` is refused as a master username by Aurora PostgreSQL.
RESERVED_USERNAMES = frozenset({"postgres", "rdsadmin", "rds_superuser", "rds_replication"})
MIN_PREFIX, MAX_PREFIX = 16, 24
PRIVATE_NETWORKS = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# The RTO target `drplan --check` holds the modeled recovery to: a minute to a day.
MIN_RTO_TARGET_SECONDS, MAX_RTO_TARGET_SECONDS = 60, 86_400


class ConfigError(pulumi.RunError):
    """Bad stack configuration. Raised before any resource is registered; the message lists every
    problem with its key and fix. `pulumi.RunError` makes the CLI print it without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class Tags:
    """Values of the tags every resource carries (`stack.naming.Namer.tags` adds `Project` and
    `ManagedBy`)."""

    environment: str
    repository: str
    author: str
    pr_number: str
    team: str


@dataclass(frozen=True)
class AlertSubscriber:
    """Someone every alarm, RDS event and failed report of the stack reaches: one SNS
    subscription of each region's alert topic."""

    protocol: str
    """The SNS protocol: `email` or `https`."""
    endpoint: str
    """What SNS delivers to. An incident tool's URL often carries its integration key: the
    program passes an `https` endpoint as a secret."""

    @property
    def shown(self) -> str:
        """How outputs, plans and operators see it: an email address whole; a URL as its scheme
        and host only (its path and query may be the key)."""
        if self.protocol != "https":
            return f"{self.protocol}:{self.endpoint}"
        host = urlsplit(self.endpoint).hostname
        return f"https://{host}/..." if host else "https:(not shown)"


@dataclass(frozen=True)
class DatabaseSettings:
    """What the global database runs and is called: the part of the settings `GlobalAurora`
    reads."""

    engine_version: str
    database_name: str
    master_username: str


@dataclass(frozen=True)
class NetworkSettings:
    """What the settings ask of each region's network: the part `Network` reads."""

    engine_version: str
    """The database instances in the subnets run it, so the chosen zones must offer it."""
    compliance_endpoints: bool
    """Interface endpoints for ec2, ecr.api, ecr.dkr, ssm, ssm-contacts and ssm-incidents."""


@dataclass(frozen=True)
class StackSettings:
    """The validated stack configuration. Field names follow the config keys (snake_case)."""

    environment_suffix: str
    sizing: str
    primary_region: str
    dr_region: str
    primary_vpc_cidr: str
    dr_vpc_cidr: str
    database_name: str
    master_username: str
    engine_version: str
    alert_email: str | None
    dns_zone_name: str
    tags: Tags
    rto_target_seconds: int
    """Recovery-time objective the offline plan's `--check` holds the modeled RTO to (default:
    the sizing's `rto_target_seconds`)."""
    compliance_endpoints: bool = False
    """Security Hub's interface endpoints (EC2.10/55-58/60) in both VPCs: nothing calls them."""
    alert_https_endpoint: str | None = None
    """An incident tool's HTTPS endpoint, subscribed to both alert topics (`alertHttpsEndpoint`)."""
    undecrypted: tuple[str, ...] = ()
    """Keys whose values could not be decrypted (the offline plan only; see
    `is_unknown_secret`): they are planned with a stand-in, unvalidated."""

    @property
    def database(self) -> DatabaseSettings:
        """Engine version, database name and master username, together."""
        return DatabaseSettings(self.engine_version, self.database_name, self.master_username)

    @property
    def network(self) -> NetworkSettings:
        """Engine version and compliance endpoints, together."""
        return NetworkSettings(self.engine_version, self.compliance_endpoints)

    @property
    def alert_subscribers(self) -> tuple[AlertSubscriber, ...]:
        """Who each region's alert topic reaches: the email, then the HTTPS endpoint, if set."""
        subscribers = [
            AlertSubscriber(protocol, endpoint)
            for protocol, endpoint in (
                ("email", self.alert_email),
                ("https", self.alert_https_endpoint),
            )
            if endpoint
        ]
        return tuple(subscribers)

    @property
    def private_zone_name(self) -> str:
        """The private hosted zone the stack creates: `<suffix>.<dnsZoneName>`."""
        return f"{self.environment_suffix}.{self.dns_zone_name}"


def _check_suffix(value: str | None) -> list[str]:
    key = "environmentSuffix"
    if not value:
        return [f"{key} is required: `pulumi config set {key} <name>` (e.g. dev, pr-123)."]
    if len(value) > MAX_SUFFIX_LENGTH or not SUFFIX_PATTERN.match(value) or "--" in value:
        return [
            f"{key} {value!r} is malformed: use 1-{MAX_SUFFIX_LENGTH} lowercase letters, digits "
            "and single '-', starting with a letter and not ending with '-' (it ends every "
            "physical name, and RDS identifiers allow nothing else)."
        ]
    return []


def _check_cidr(key: str, value: str) -> tuple[list[str], ipaddress.IPv4Network | None]:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return [
            f"{key} {value!r} is not a CIDR block: use the network address, e.g. 10.0.0.0/16."
        ], None
    if not isinstance(network, ipaddress.IPv4Network):
        return [f"{key} {value!r} is IPv6: use a private IPv4 range such as 10.0.0.0/16."], None
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        return [
            f"{key} {value!r} has prefix /{network.prefixlen}: use /{MIN_PREFIX} to "
            f"/{MAX_PREFIX} (three subnets are carved out of it)."
        ], None
    if not any(network.subnet_of(private) for private in PRIVATE_NETWORKS):
        return [
            f"{key} {value!r} is not a private range: use 10.0.0.0/8, 172.16.0.0/12 or "
            "192.168.0.0/16 addresses."
        ], None
    return [], network


def _check_sizing(sizing: str) -> list[str]:
    if sizing in SIZING:
        return []
    return [f"sizing {sizing!r} is unknown: set it to one of {', '.join(sorted(SIZING))}."]


def _check_regions(primary_region: str, dr_region: str) -> list[str]:
    problems = [
        f"{key} {region!r} is not an AWS region name: use e.g. us-east-1."
        for key, region in (("primaryRegion", primary_region), ("drRegion", dr_region))
        if not REGION_PATTERN.match(region)
    ]
    if primary_region == dr_region:
        problems.append(
            f"primaryRegion and drRegion are both {primary_region!r}: a global database needs "
            "two regions; set drRegion to another region (e.g. us-west-2)."
        )
    return problems


def _check_vpc_ranges(
    primary_cidr: str, dr_cidr: str
) -> tuple[list[str], ipaddress.IPv4Network | None, ipaddress.IPv4Network | None]:
    """Problems with the two VPC ranges, and the ranges themselves when each is valid."""
    primary_problems, primary_net = _check_cidr("primaryVpcCidr", primary_cidr)
    dr_problems, dr_net = _check_cidr("drVpcCidr", dr_cidr)
    problems = primary_problems + dr_problems
    if primary_net is not None and dr_net is not None and primary_net.overlaps(dr_net):
        problems.append(
            f"primaryVpcCidr {primary_net} and drVpcCidr {dr_net} overlap: VPC peering needs "
            f"disjoint ranges; set drVpcCidr to e.g. {free_range(primary_net, dr_net.prefixlen)} "
            f"(or primaryVpcCidr to e.g. {free_range(dr_net, primary_net.prefixlen)})."
        )
    return problems, primary_net, dr_net


def free_range(taken: ipaddress.IPv4Network, prefixlen: int) -> ipaddress.IPv4Network:
    """The first private range of size /`prefixlen` that does not overlap `taken`: the hint for
    the other VPC's range. The private block `taken` lies in is searched first, from its start.

    `taken` is at least a /16 and every private block is larger, so a free range always exists.
    """
    blocks = sorted(PRIVATE_NETWORKS, key=lambda block: not taken.subnet_of(block))
    for block in blocks:
        for candidate in block.subnets(new_prefix=prefixlen):
            if not candidate.overlaps(taken):
                return candidate
    raise ValueError(f"no private /{prefixlen} is free of {taken}")


def _check_database(database_name: str, master_username: str, engine_version: str) -> list[str]:
    problems = []
    if not IDENTIFIER_PATTERN.match(database_name):
        problems.append(
            f"databaseName {database_name!r} is malformed: use 1-63 lowercase letters, digits "
            "and '_', starting with a letter."
        )
    if not IDENTIFIER_PATTERN.match(master_username) or len(master_username) > 16:
        problems.append(
            f"masterUsername {master_username!r} is malformed: use 1-16 lowercase letters, "
            "digits and '_', starting with a letter."
        )
    elif master_username in RESERVED_USERNAMES:
        problems.append(
            f"masterUsername {master_username!r} is reserved by RDS: choose another, e.g. dbadmin."
        )
    if not VERSION_PATTERN.match(engine_version):
        problems.append(
            f"engineVersion {engine_version!r} is malformed: use an aurora-postgresql "
            f"major.minor such as {DEFAULT_ENGINE_VERSION}."
        )
    return problems


def _check_alert_email(alert_email: str | None) -> list[str]:
    if alert_email is None or EMAIL_PATTERN.match(alert_email):
        return []
    return [
        f"alertEmail {alert_email!r} is not an email address: use name@example.com, or "
        "`pulumi config rm alertEmail` for no subscription."
    ]


def _check_alert_https_endpoint(endpoint: str | None) -> list[str]:
    if endpoint is None:
        return []
    parts = urlsplit(endpoint)
    if parts.scheme == "https" and parts.hostname:
        return []
    return [
        "alertHttpsEndpoint is not an https URL: use the incident tool's SNS integration URL "
        "(`pulumi config set --secret alertHttpsEndpoint https://...`), or `pulumi config rm "
        "alertHttpsEndpoint`."
    ]


def _check_someone_is_alerted(sizing: str, subscribed: bool) -> list[str]:
    """A sizing that requires a subscriber (prod) refuses a stack whose alarms reach no one."""
    entry = SIZING.get(sizing)
    if entry is None or not entry.alert_subscriber_required or subscribed:
        return []
    return [
        f"sizing {sizing!r} requires someone its alarms reach, and neither alertEmail nor "
        "alertHttpsEndpoint is set: `pulumi config set alertEmail oncall@yourcompany.com` "
        "(a monitored address; confirm the email SNS sends), or `pulumi config set --secret "
        "alertHttpsEndpoint https://...` for an incident tool's SNS integration."
    ]


def _check_alerts(
    sizing: str, email: str | None, https_endpoint: str | None, undecrypted: tuple[str, ...]
) -> list[str]:
    """The subscribers' values (an undecrypted one is not checked), and that someone is
    subscribed when the sizing requires it."""
    return [
        *_check_alert_email(None if "alertEmail" in undecrypted else email),
        *_check_alert_https_endpoint(
            None if "alertHttpsEndpoint" in undecrypted else https_endpoint
        ),
        *_check_someone_is_alerted(sizing, bool(email or https_endpoint)),
    ]


def _check_dns_zone_name(dns_zone_name: str) -> list[str]:
    if DNS_NAME_PATTERN.match(dns_zone_name):
        return []
    return [
        f"dnsZoneName {dns_zone_name!r} is not a DNS name: use lowercase labels joined by "
        "dots, e.g. db.internal."
    ]


def _check_tag_values(tag_values: Mapping[str, str]) -> list[str]:
    return [
        f"{key} {value!r} cannot be an AWS tag value: use at most 256 letters, digits, "
        "spaces and _ . : / = + - @."
        for key, value in tag_values.items()
        if not TAG_VALUE_PATTERN.match(value)
    ]


def _check_rto_target(rto_target: str) -> list[str]:
    if rto_target.isdigit() and MIN_RTO_TARGET_SECONDS <= int(rto_target) <= MAX_RTO_TARGET_SECONDS:
        return []
    return [
        f"rtoTargetSeconds {rto_target!r} is not a number of seconds: use a whole number "
        f"from {MIN_RTO_TARGET_SECONDS} to {MAX_RTO_TARGET_SECONDS} (e.g. 300)."
    ]


BOOLEANS = {"true": True, "false": False}


def _check_boolean(key: str, value: str) -> list[str]:
    if value.lower() in BOOLEANS:
        return []
    return [f"{key} {value!r} is not a boolean: set it to true or false."]


def _rto_target(raw: Mapping[str, str | None], sizing: str) -> str:
    """`rtoTargetSeconds` as configured, else the sizing's objective (a valid one when the sizing
    itself is unknown, so that only the sizing is reported)."""
    configured = (raw.get("rtoTargetSeconds") or "").strip()
    if configured:
        return configured
    entry = SIZING.get(sizing)
    return str(entry.rto_target_seconds if entry else MAX_RTO_TARGET_SECONDS)


def is_unknown_secret(value: object) -> bool:
    """True for a `secure:` value the offline plan could not decrypt.

    Only drplan makes such values (a `str` that says so); under `pulumi up` every value arrives
    decrypted as a plain `str`, so there nothing is exempt from validation.
    """
    return getattr(value, "unknown_secret", False) is True


def _without_unknown_secrets(
    raw: Mapping[str, str | None],
) -> tuple[dict[str, str | None], tuple[str, ...]]:
    """`raw` with every undecryptable value replaced by a stand-in (the key's default; none for a
    key whose default is the sizing's; else the value's own text), and the keys replaced."""
    undecrypted = tuple(sorted(key for key, value in raw.items() if is_unknown_secret(value)))
    plain = {k: _stand_in(k, v) if k in undecrypted else v for k, v in raw.items()}
    return plain, undecrypted


def _stand_in(key: str, value: object) -> str | None:
    if key in SIZING_DEFAULTS:
        return None
    return DEFAULTS.get(key, str(value))


def parse_settings(raw: Mapping[str, str | None]) -> StackSettings:
    """Validate raw config values (missing keys take DEFAULTS) and build `StackSettings`.

    Raises `ConfigError` listing every problem found. Values the offline plan could not decrypt
    (`is_unknown_secret`) are not validated but named in `undecrypted`.
    """
    raw, undecrypted = _without_unknown_secrets(raw)

    def get(key: str) -> str:
        value = raw.get(key)
        return DEFAULTS[key] if value is None or value == "" else value.strip()

    suffix = (raw.get("environmentSuffix") or "").strip()
    alert_email = (raw.get("alertEmail") or "").strip() or None
    alert_https_endpoint = (raw.get("alertHttpsEndpoint") or "").strip() or None
    dns_zone_name = get("dnsZoneName").rstrip(".")
    tag_values = {k: get(k) for k in ("repository", "commitAuthor", "prNumber", "team")}
    rto_target = _rto_target(raw, get("sizing"))
    network_problems, primary_net, dr_net = _check_vpc_ranges(
        get("primaryVpcCidr"), get("drVpcCidr")
    )
    problems = [
        *_check_suffix(suffix),
        *_check_sizing(get("sizing")),
        *_check_regions(get("primaryRegion"), get("drRegion")),
        *network_problems,
        *_check_database(get("databaseName"), get("masterUsername"), get("engineVersion")),
        *_check_alerts(get("sizing"), alert_email, alert_https_endpoint, undecrypted),
        *_check_dns_zone_name(dns_zone_name),
        *_check_tag_values(tag_values),
        *_check_rto_target(rto_target),
        *_check_boolean("complianceEndpoints", get("complianceEndpoints")),
    ]
    if problems:
        raise ConfigError(problems)
    return StackSettings(
        environment_suffix=suffix,
        sizing=get("sizing"),
        primary_region=get("primaryRegion"),
        dr_region=get("drRegion"),
        primary_vpc_cidr=str(primary_net),
        dr_vpc_cidr=str(dr_net),
        database_name=get("databaseName"),
        master_username=get("masterUsername"),
        engine_version=get("engineVersion"),
        alert_email=alert_email,
        dns_zone_name=dns_zone_name,
        rto_target_seconds=int(rto_target),
        compliance_endpoints=BOOLEANS[get("complianceEndpoints").lower()],
        alert_https_endpoint=alert_https_endpoint,
        undecrypted=undecrypted,
        tags=Tags(
            environment=suffix,
            repository=tag_values["repository"],
            author=tag_values["commitAuthor"],
            pr_number=tag_values["prNumber"],
            team=tag_values["team"],
        ),
    )


CONFIG_KEYS = (
    "environmentSuffix",
    "alertEmail",
    "alertHttpsEndpoint",
    *DEFAULTS,
    *SIZING_DEFAULTS,
)


def load_settings() -> StackSettings:
    """Read the project's config namespace and validate it (see `parse_settings`)."""
    config = pulumi.Config(PROJECT)
    return parse_settings({key: config.get(key) for key in CONFIG_KEYS})
