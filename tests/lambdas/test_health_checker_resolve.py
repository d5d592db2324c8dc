"""Health checker `{"resolve": [...]}`: strict names, CNAME chains, bounded time, no network."""

from __future__ import annotations

import socket
import threading

import pytest

from health_checker import handler, resolve

ENVIRONMENT = "dev"
WRITER = "writer.dev.db.internal"
READER = "reader.dev.db.internal"
CLUSTER_ENDPOINT = "aurora-dr-db-use1-dev.cluster-abc123.us-east-1.rds.amazonaws.com"
INSTANCE_ENDPOINT = "aurora-dr-db1-use1-dev.abc123.us-east-1.rds.amazonaws.com"

HANDLER_ENV = {
    "ENVIRONMENT_SUFFIX": ENVIRONMENT,
    "LOCAL_REGION": "us-east-1",
    "PEER_REGION": "us-west-2",
    "DB_SECRET_ID": "aurora-dr-db-dev",
    "CLUSTER_ENDPOINT": CLUSTER_ENDPOINT,
    "READER_ENDPOINT": "aurora-dr-db-use1-dev.cluster-ro-abc123.us-east-1.rds.amazonaws.com",
    "PEER_CLUSTER_ENDPOINT": "aurora-dr-db-usw2-dev.cluster-def456.us-west-2.rds.amazonaws.com",
    "PROBE_TIMEOUT_SECONDS": "1",
}


class FakeDns:
    """`socket.gethostbyname_ex` over a fixed table; records every name asked."""

    def __init__(self, table: dict[str, tuple[str, list[str], list[str]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, name: str) -> tuple[str, list[str], list[str]]:
        self.asked.append(name)
        if name not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[name]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """writer -> cluster endpoint -> instance endpoint -> 10.0.1.25 (as glibc reports a chain)."""
    fake = FakeDns({WRITER: (INSTANCE_ENDPOINT, [WRITER, CLUSTER_ENDPOINT], ["10.0.1.25"])})
    monkeypatch.setattr(socket, "gethostbyname_ex", fake)
    return fake


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test: a lookup must never connect anywhere."""

    def refuse(*args, **kwargs):
        raise AssertionError("the resolve path opened a socket")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The health checker's wired environment; probing or building AWS clients fails the test."""
    for key, value in HANDLER_ENV.items():
        monkeypatch.setenv(key, value)

    def forbidden(*args, **kwargs):
        raise AssertionError("a resolve event must not probe, read secrets or publish metrics")

    monkeypatch.setattr(handler, "probe_health", forbidden)
    monkeypatch.setattr(handler, "probe_peer", forbidden)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", forbidden)


# --- validation -------------------------------------------------------------------------------


def test_names_are_normalised_and_deduplicated():
    """GIVEN names with upper case, a final dot and a repeat WHEN validated THEN one clean copy."""
    names = resolve.requested_names(["Writer.DEV.db.internal.", WRITER, READER], ENVIRONMENT)
    assert names == (WRITER, READER)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("writer.dev.db.internal", "must be a list"),
        ([], "must be a list"),
        ([WRITER, READER, "a.dev.x", "b.dev.x", "c.dev.x"], "must be a list"),
        ([42], "must be strings"),
        (["dev.db.internal"], "private zone"),
        (["writer.dev"], "not a DNS name"),
        (["writer..dev.db.internal"], "not a DNS name"),
        (["writer.dev.db.internal;id"], "not a DNS name"),
        (["-writer.dev.db.internal"], "not a DNS name"),
        ([f"{'a' * 64}.dev.db.internal"], "not a DNS name"),
        (["1.2.3.4"], "not a DNS name"),
        (["writer.prod.db.internal"], "private zone"),
        (["www.example.com"], "private zone"),
        ([CLUSTER_ENDPOINT], "private zone"),
    ],
)
def test_anything_but_a_record_of_the_stacks_zone_is_refused(value, message):
    """GIVEN a malformed list or a name outside `<label>.<suffix>.<parent>` WHEN validated THEN
    ResolveRequestError says why, and nothing is looked up."""
    with pytest.raises(resolve.ResolveRequestError, match=message):
        resolve.requested_names(value, ENVIRONMENT)


# --- lookups ----------------------------------------------------------------------------------


def test_a_failover_record_resolves_to_its_cname_chain_and_addresses(dns, no_network):
    """GIVEN writer.<zone> is a CNAME to a cluster endpoint WHEN resolved THEN the chain starts
    with the asked name, contains the cluster endpoint and ends with the canonical name."""
    result = resolve.resolve_names([WRITER], timeout_seconds=1.0)
    assert result == {
        WRITER: {"chain": [WRITER, CLUSTER_ENDPOINT, INSTANCE_ENDPOINT], "addresses": ["10.0.1.25"]}
    }


def test_a_name_that_does_not_resolve_is_reported_not_raised(dns, no_network):
    """GIVEN one name resolves and one is NXDOMAIN WHEN both are resolved THEN the first has its
    chain and the second an error naming the resolver's answer."""
    result = resolve.resolve_names([WRITER, READER], timeout_seconds=1.0)
    assert result[WRITER]["addresses"] == ["10.0.1.25"]
    assert result[READER] == {"error": "gaierror: [Errno -2] Name or service not known"}


def test_a_hung_lookup_costs_the_budget_not_the_lambdas_run(monkeypatch, no_network):
    """GIVEN a resolver that never answers WHEN resolved with a 0.2 s budget THEN the call returns
    a timeout error while the lookup is still hanging (it ends later, in the background)."""
    release = threading.Event()
    answered = threading.Event()

    def hang(name):
        release.wait(10)
        answered.set()
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "gethostbyname_ex", hang)
    try:
        result = resolve.resolve_names([WRITER], timeout_seconds=0.2)
        still_hanging = not answered.is_set()
    finally:
        release.set()
    assert still_hanging, "resolve_names waited for the hung lookup"
    assert result == {WRITER: {"error": "timed out after 0.2 s"}}


# --- handler ----------------------------------------------------------------------------------


def test_the_handler_answers_a_resolve_event_without_probing(
    handler_env, dns, no_network, lambda_context
):
    """GIVEN the wired environment WHEN invoked with {"resolve": [writer]} THEN it returns the
    chain, and neither probes the database nor builds an AWS client."""
    result = handler.lambda_handler({"resolve": [WRITER]}, lambda_context)
    assert result == {
        "resolved": {
            WRITER: {
                "chain": [WRITER, CLUSTER_ENDPOINT, INSTANCE_ENDPOINT],
                "addresses": ["10.0.1.25"],
            }
        }
    }
    assert dns.asked == [WRITER]


@pytest.mark.parametrize(
    ("event", "error", "message"),
    [
        ({"resolve": [WRITER], "dryRun": True}, handler.EventError, "health_checker accepts"),
        (
            {"resolve": ["writer.prod.db.internal"]},
            resolve.ResolveRequestError,
            "is not a record of this stack's private zone",
        ),
        (
            {"resolve": "writer.dev.db.internal"},
            resolve.ResolveRequestError,
            "'resolve' must be a list of 1 to 4 DNS names",
        ),
    ],
)
def test_the_handler_refuses_a_bad_resolve_event_before_any_lookup(
    handler_env, dns, lambda_context, event, error, message
):
    """GIVEN a resolve event with an extra key or a foreign name WHEN invoked THEN it fails
    visibly and no name is looked up."""
    with pytest.raises(error, match=message):
        handler.lambda_handler(event, lambda_context)
    assert dns.asked == []
