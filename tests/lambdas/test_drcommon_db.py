"""drcommon.db: secret parsing, TLS that always verifies, timeouts and safe SQL quoting."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import ssl
import threading

import boto3
import pg8000.native
import pytest

from drcommon import contract, db
from drcommon.db import CredentialsError, DbCredentials, Endpoint, TlsConfigurationError

SECRET = {
    "engine": "postgres",
    "host": "writer.example.internal",
    "port": 5432,
    "username": "dbadmin",
    "password": "s3cr3t-Value",
    "dbname": "appdb",
    "globalClusterIdentifier": "gdb",
}


# --- credentials ------------------------------------------------------------------------------


def test_credentials_parse_the_secret_json_and_ignore_extra_keys():
    """GIVEN the stack's secret JSON WHEN parsed THEN the five login fields are typed."""
    creds = DbCredentials.from_secret(json.dumps({**SECRET, "port": "5432"}))
    assert creds == DbCredentials(
        "writer.example.internal", 5432, "dbadmin", "s3cr3t-Value", "appdb"
    )


def test_credentials_never_show_the_password():
    """GIVEN credentials WHEN printed THEN the password is not in the text."""
    assert "s3cr3t" not in repr(DbCredentials.from_secret(SECRET))


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({k: v for k, v in SECRET.items() if k not in ("host", "dbname")}, "host, dbname"),
        ({**SECRET, "port": "not-a-port"}, "'port' must be an integer"),
        ({**SECRET, "port": 70000}, "1..65535"),
        ({**SECRET, "username": 7}, "'username' must be a string"),
        ('{"password": "s3cr3t-Value", broken', "not valid JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_malformed_secrets_are_rejected_with_the_key_and_without_the_password(secret, message):
    """GIVEN a malformed secret WHEN parsed THEN CredentialsError names the problem, not the value."""
    with pytest.raises(CredentialsError, match=message) as caught:
        DbCredentials.from_secret(secret)
    assert "s3cr3t" not in str(caught.value)


def test_credentials_can_be_aimed_at_another_endpoint():
    """GIVEN credentials WHEN aimed at an endpoint THEN host changes, port only when given."""
    creds = DbCredentials.from_secret(SECRET)
    assert creds.at("reader.example.internal").port == 5432
    assert creds.at("reader.example.internal").host == "reader.example.internal"
    assert creds.at(Endpoint("127.0.0.1", 6543)).port == 6543
    assert creds.at("127.0.0.1:7000", port=7001).port == 7001


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "db.cluster-abc.us-east-1.rds.amazonaws.com",
            Endpoint("db.cluster-abc.us-east-1.rds.amazonaws.com"),
        ),
        ("127.0.0.1:6543", Endpoint("127.0.0.1", 6543)),
    ],
)
def test_endpoints_parse_host_and_optional_port(text, expected):
    """GIVEN 'host' or 'host:port' WHEN parsed THEN the endpoint has them."""
    assert Endpoint.parse(text) == expected


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", "host:abc", "bad host", "-x.com"])
def test_malformed_endpoints_are_rejected(text):
    """GIVEN a malformed endpoint WHEN parsed THEN ValueError."""
    with pytest.raises(ValueError, match="endpoint"):
        Endpoint.parse(text)


def test_read_credentials_reads_the_requested_stage(aws):
    """GIVEN a secret with two versions WHEN read by stage THEN each stage's value is returned."""
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="db", SecretString=json.dumps(SECRET))
    client.put_secret_value(
        SecretId="db",
        ClientRequestToken="t" * 32,
        SecretString=json.dumps({**SECRET, "password": "next-Value"}),
        VersionStages=["AWSPENDING"],
    )
    assert db.read_credentials(client, "db").password == "s3cr3t-Value"
    assert db.read_credentials(client, "db", version_stage="AWSPENDING").password == "next-Value"


# --- TLS --------------------------------------------------------------------------------------


def test_ssl_context_requires_a_verified_certificate_and_hostname(postgres_server):
    """GIVEN a CA bundle WHEN a context is built THEN it verifies certificate and hostname."""
    context = db.build_ssl_context(postgres_server.ca_path)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_the_bundle_path_comes_from_the_environment_or_the_layer(monkeypatch):
    """GIVEN DB_CA_BUNDLE set or not WHEN resolved THEN env wins, else the layer's file."""
    monkeypatch.setenv(contract.CA_BUNDLE_ENV, "/opt/custom.pem")
    assert db.ca_bundle_path() == "/opt/custom.pem"
    monkeypatch.delenv(contract.CA_BUNDLE_ENV)
    assert db.ca_bundle_path().endswith("drcommon/rds-ca-bundle.pem")


def test_a_missing_bundle_refuses_to_connect_instead_of_falling_back(tmp_path, monkeypatch):
    """GIVEN no CA bundle WHEN connecting THEN TlsConfigurationError, never plaintext."""
    monkeypatch.setenv(contract.CA_BUNDLE_ENV, str(tmp_path / "missing.pem"))
    with pytest.raises(TlsConfigurationError, match="not found"):
        db.connect(DbCredentials.from_secret(SECRET))


def test_a_file_that_is_not_a_bundle_is_refused(tmp_path):
    """GIVEN a file without certificates WHEN used as bundle THEN TlsConfigurationError."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(TlsConfigurationError, match="not a usable PEM bundle"):
        db.build_ssl_context(str(bogus))


def test_unverified_contexts_are_refused():
    """GIVEN a context that skips verification WHEN connecting THEN refused before any I/O."""
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    creds = DbCredentials.from_secret(SECRET)
    with pytest.raises(TlsConfigurationError, match="CERT_REQUIRED"):
        db.connect(creds, ssl_context=lax)
    with pytest.raises(TlsConfigurationError, match="plaintext"):
        db.require_verified(None)


def test_connect_uses_verified_tls_and_the_statement_timeout(postgres_server):
    """GIVEN the server's CA WHEN connecting THEN the session is TLS with our statement_timeout."""
    creds = DbCredentials.from_secret(postgres_server.secret_dict())
    conn = db.connect(
        creds,
        ssl_context=db.build_ssl_context(postgres_server.ca_path),
        timeout=3,
        statement_timeout_ms=1234,
    )
    try:
        assert conn.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [[True]]
        assert conn.run("SHOW statement_timeout") == [["1234ms"]]
    finally:
        conn.close()


def test_default_context_comes_from_db_ca_bundle(postgres_server, monkeypatch):
    """GIVEN DB_CA_BUNDLE pointing at the server's CA WHEN connecting without a context THEN TLS."""
    monkeypatch.setenv(contract.CA_BUNDLE_ENV, postgres_server.ca_path)
    conn = db.connect(DbCredentials.from_secret(postgres_server.secret_dict()), timeout=3)
    try:
        assert conn.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [[True]]
    finally:
        conn.close()


def test_a_server_certificate_from_another_ca_is_rejected(postgres_server):
    """GIVEN a bundle that did not sign the server cert WHEN connecting THEN verification fails."""
    creds = DbCredentials.from_secret(postgres_server.secret_dict())
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.untrusted_ca_path))


def _resolve_to_loopback(monkeypatch, name: str, address: str) -> None:
    """Make `name` resolve to `address` for new TCP connections (a DNS record, for the test)."""
    real = socket.create_connection

    def create_connection(target, *args, **kwargs):
        host, port = target
        return real((address if host == name else host, port), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)


def test_a_certificate_for_another_name_is_rejected(postgres_server, monkeypatch):
    """GIVEN `writer.example.internal` leading to the test server, whose certificate is signed by
    the trusted CA but names only localhost and 127.0.0.1 WHEN connecting to that name THEN the
    hostname check refuses it; the name on the certificate connects."""
    _resolve_to_loopback(monkeypatch, "writer.example.internal", postgres_server.host)
    creds = DbCredentials.from_secret(postgres_server.secret_dict(host="writer.example.internal"))
    context = db.build_ssl_context(postgres_server.ca_path)

    with pytest.raises(
        ssl.SSLCertVerificationError,
        match=r"Hostname mismatch, certificate is not valid for 'writer\.example\.internal'",
    ):
        db.connect(creds, ssl_context=context, timeout=3)

    conn = db.connect(creds.at("localhost"), ssl_context=context, timeout=3)
    conn.close()


def test_only_the_bundle_is_trusted_not_the_system_store(postgres_server, monkeypatch, tmp_path):
    """GIVEN the server's CA in the system trust store (OpenSSL's SSL_CERT_FILE) but not in the
    bundle WHEN connecting with a context built from the bundle THEN verification fails."""
    monkeypatch.setenv("SSL_CERT_FILE", postgres_server.ca_path)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    creds = DbCredentials.from_secret(postgres_server.secret_dict())
    # The system store does trust the server: a context that loads it connects.
    db.connect(creds, ssl_context=ssl.create_default_context(), timeout=3).close()
    bundle = tmp_path / "rds-ca-bundle.pem"  # a fresh path: no context cached for it yet
    shutil.copy(postgres_server.untrusted_ca_path, bundle)

    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        db.connect(creds, ssl_context=db.build_ssl_context(str(bundle)), timeout=3)


@contextlib.contextmanager
def _server_that_declines_tls():
    """A fake PostgreSQL that answers 'N' (no TLS) to the SSLRequest, as a plaintext server would."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(8)
                conn.sendall(b"N")
                conn.recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


def test_a_server_that_declines_tls_is_refused_not_used_in_plaintext(postgres_server):
    """GIVEN a server that declines TLS WHEN connecting THEN pg8000 refuses: no plaintext login."""
    creds = DbCredentials.from_secret(postgres_server.secret_dict())
    with (
        _server_that_declines_tls() as port,
        pytest.raises(pg8000.native.InterfaceError, match="refuses SSL"),
    ):
        db.connect(
            creds.at(Endpoint("127.0.0.1", port)),
            ssl_context=db.build_ssl_context(postgres_server.ca_path),
            timeout=2,
        )


@contextlib.contextmanager
def _silent_endpoint(hold_seconds: float = 5.0):
    """A loopback port whose kernel completes the TCP handshake, then nobody ever says a word.

    After `hold_seconds` the listener closes, which resets the queued connections: a client
    without a socket timeout then fails with a reset (the wrong error) instead of hanging.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=8)
    closer = threading.Timer(hold_seconds, listener.close)
    closer.daemon = True
    closer.start()
    try:
        yield listener.getsockname()[1]
    finally:
        closer.cancel()
        listener.close()


def test_connect_to_a_silent_endpoint_fails_on_its_socket_timeout(postgres_server):
    """GIVEN a port that accepts TCP but never answers WHEN connecting with a 0.2 s timeout THEN the
    socket times out (the SSLRequest gets no answer), rather than waiting for the server."""
    with _silent_endpoint() as port:
        creds = DbCredentials.from_secret(postgres_server.secret_dict()).at(
            Endpoint("127.0.0.1", port)
        )
        with pytest.raises(TimeoutError, match="timed out"):
            db.connect(
                creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=0.2
            )


def _record_opened_sockets(monkeypatch) -> list[tuple[socket.socket, int]]:
    """Each socket `socket.create_connection` opens from now on, with its descriptor number (TLS
    takes the descriptor over from the socket object it wraps)."""
    opened: list[tuple[socket.socket, int]] = []
    real = socket.create_connection

    def create_connection(*args, **kwargs):
        sock = real(*args, **kwargs)
        opened.append((sock, sock.fileno()))
        return sock

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def test_sessions_turn_nagle_off_and_keep_alive_on(postgres_server, monkeypatch):
    """GIVEN a login over TLS WHEN `connect` opens its socket THEN TCP_NODELAY is on (with Nagle
    on, every login waited ~40 ms for a delayed ACK) and keep-alive is on, as pg8000 sets it."""
    opened = _record_opened_sockets(monkeypatch)
    creds = DbCredentials.from_secret(postgres_server.secret_dict())

    conn = db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=3)
    try:
        assert conn.run("SELECT 1") == [[1]]
        ((_, fd),) = opened  # one socket: the one the session runs on
        # Look at the session's socket through a duplicate of its descriptor.
        with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as session:
            assert session.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert session.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        conn.close()


def test_the_socket_timeout_is_the_connect_timeout():
    """GIVEN a listening port WHEN `open_tcp_socket` connects with 3 s THEN every later read on
    it is bounded by 3 s too (pg8000 sets no timeout on a socket it is handed)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = db.open_tcp_socket("127.0.0.1", listener.getsockname()[1], 3)
        with sock:
            assert sock.gettimeout() == 3


def test_a_refused_connection_is_pg8000s_interface_error_naming_the_endpoint(postgres_server):
    """GIVEN a loopback port nobody listens on WHEN connecting THEN pg8000's InterfaceError, naming
    host and port, as before `connect` opened its own sockets (callers catch exactly that)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    creds = DbCredentials.from_secret(postgres_server.secret_dict()).at(Endpoint("127.0.0.1", port))

    with pytest.raises(
        pg8000.native.InterfaceError, match=rf"host 127\.0\.0\.1 and port {port} "
    ) as excinfo:
        db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=2)
    assert isinstance(excinfo.value.__cause__, ConnectionRefusedError)


def test_a_start_up_that_fails_before_pg8000_takes_the_socket_closes_it(
    postgres_server, monkeypatch
):
    """GIVEN pg8000 failing before it wraps the socket WHEN connecting THEN the socket `connect`
    opened is closed, not left to the garbage collector."""
    opened = _record_opened_sockets(monkeypatch)

    def failing_connection(**kwargs):
        raise pg8000.native.InterfaceError("rejected a parameter")

    monkeypatch.setattr(pg8000.native, "Connection", failing_connection)
    creds = DbCredentials.from_secret(postgres_server.secret_dict())

    with pytest.raises(pg8000.native.InterfaceError, match="rejected a parameter"):
        db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=2)
    ((sock, _),) = opened
    assert sock.fileno() == -1  # closed


def test_timeouts_must_be_positive():
    """GIVEN no timeout WHEN connecting THEN refused: a connection must never block forever."""
    with pytest.raises(ValueError, match="timeout"):
        db.connect(DbCredentials.from_secret(SECRET), ssl_context=_verified_context(), timeout=0)


def _verified_context() -> ssl.SSLContext:
    return ssl.create_default_context()


# --- errors and SQL ----------------------------------------------------------------------------


def test_alter_role_sql_quotes_the_role_and_carries_a_verifier_never_the_password():
    """GIVEN a hostile role name and password WHEN building ALTER ROLE THEN the role is quoted and
    the statement carries a SCRAM-SHA-256 verifier in PostgreSQL's stored form, not the
    password (statement logging would copy the statement into the database log)."""
    password = "it's; DROP TABLE x; --"
    sql = db.alter_role_password_sql('we"ird', password)
    assert sql.startswith("""ALTER ROLE "we""ird" WITH PASSWORD 'SCRAM-SHA-256$4096:""")
    assert password not in sql and "DROP TABLE" not in sql
    verifier = sql.split("WITH PASSWORD ", 1)[1].strip("'")
    assert re.fullmatch(
        r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+", verifier
    )
    # a fresh salt each time: two verifiers of one password differ
    assert db.scram_verifier(password) != db.scram_verifier(password)
    with pytest.raises(ValueError, match="password must be a non-empty string"):
        db.alter_role_password_sql("x", "")


def test_the_server_stores_the_verifier_as_sent_and_the_password_logs_in(postgres_server):
    """GIVEN a role WHEN its password is set with the verifier statement THEN pg_authid holds
    exactly the verifier we sent (the server did not hash a clear text of its own) and the
    password logs in over TLS."""
    role, _ = postgres_server.create_role()
    password = "Rotated-Password-1"
    sql = db.alter_role_password_sql(role, password)
    with contextlib.closing(postgres_server.connect()) as admin:
        admin.run(sql)
    with contextlib.closing(postgres_server.superuser_connect()) as su:
        stored = su.run("SELECT rolpassword FROM pg_authid WHERE rolname = :r", r=role)[0][0]
    assert stored == sql.split("WITH PASSWORD ", 1)[1].strip("'")
    creds = DbCredentials.from_secret(postgres_server.secret_dict(role, password))
    conn = db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=3)
    with contextlib.closing(conn):
        assert conn.run("SELECT current_user") == [[role]]


def test_quoted_password_round_trips_through_the_server(postgres_server):
    """GIVEN a password full of quote characters WHEN set via ALTER ROLE THEN it logs in verbatim."""
    role, _ = postgres_server.create_role()
    tricky = "a'b\"c$1;--%s\\d{}"
    admin = postgres_server.connect()
    try:
        admin.run(db.alter_role_password_sql(role, tricky))
    finally:
        admin.close()
    creds = DbCredentials.from_secret(postgres_server.secret_dict(role, tricky))
    conn = db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=3)
    try:
        assert conn.run("SELECT current_user") == [[role]]
    finally:
        conn.close()


def test_a_wrong_password_is_recognised_as_an_auth_failure(postgres_server):
    """GIVEN a wrong password WHEN logging in THEN is_auth_failure and a secret-free description."""
    creds = DbCredentials.from_secret(postgres_server.secret_dict(password="wrong-Password-1"))
    with pytest.raises(pg8000.native.DatabaseError) as caught:
        db.connect(creds, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=3)
    assert db.is_auth_failure(caught.value)
    assert db.sqlstate(caught.value) == "28P01"
    assert "wrong-Password-1" not in db.describe_error(caught.value)
    assert not db.is_auth_failure(RuntimeError("x"))


def test_a_functions_connector_verifies_tls_and_names_its_sessions(postgres_server):
    """GIVEN a function's connector WHEN it logs in THEN the session is TLS, carries the
    function's application name and the statement timeout."""
    connect = db.connector(
        "connection_drainer", timeout=3, ca_bundle=postgres_server.ca_path, statement_timeout_ms=900
    )
    conn = connect(DbCredentials.from_secret(postgres_server.secret_dict()))
    try:
        assert conn.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [[True]]
        assert conn.run("SHOW application_name") == [["aurora-dr-connection-drainer"]]
        assert conn.run("SHOW statement_timeout") == [["900ms"]]
    finally:
        conn.close()


def test_a_connector_without_a_usable_bundle_fails_when_built(tmp_path):
    """GIVEN no CA bundle at the configured path WHEN a connector is built THEN it refuses at
    once (before any login is attempted)."""
    with pytest.raises(TlsConfigurationError, match="not found"):
        db.connector("health_checker", timeout=3, ca_bundle=str(tmp_path / "missing.pem"))
