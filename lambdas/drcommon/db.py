"""TLS-only PostgreSQL connections for the DR Lambdas (pg8000 with certificate verification).

Three rules live here so no function can get them wrong:

* Every connection verifies the server: an `ssl.SSLContext` with `CERT_REQUIRED` and hostname
  checking, trusting only the RDS CA bundle shipped in the layer (or `DB_CA_BUNDLE`). pg8000 treats
  `ssl_context=None` as "plaintext if the server declines TLS"; `connect()` never passes it.
* Every connection has a short timeout (socket connect *and* every read), so a hung endpoint costs
  seconds, not the Lambda's whole run.
* SQL that cannot take bind parameters (`ALTER ROLE ... PASSWORD`) is built with pg8000's own
  `identifier()`/`literal()` quoting, never by formatting user data into SQL.
* A password never travels in SQL: `ALTER ROLE ... PASSWORD` sends a SCRAM-SHA-256 verifier
  computed here, so statement logging (`log_statement=ddl`) records no clear text.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any

import pg8000.native
from pg8000.native import identifier, literal
from scramp import ScramMechanism

from drcommon.contract import CA_BUNDLE_ENV

DEFAULT_CA_BUNDLE = os.path.join(os.path.dirname(__file__), "rds-ca-bundle.pem")
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_APPLICATION_NAME = "aurora-dr"

# SQLSTATE of a failed password login (wrong password *or* unknown role: PostgreSQL does not say).
SQLSTATE_INVALID_PASSWORD = "28P01"  # noqa: S105 - an error code

SECRET_KEYS = ("host", "port", "username", "password", "dbname")

# The password verifier PostgreSQL stores for `password_encryption = scram-sha-256` (Aurora
# PostgreSQL's default), in pg_authid's text form.
SCRAM_MECHANISM = "SCRAM-SHA-256"

# Secrets Manager's staging labels: the value in use, the one a rotation is setting, the last one.
AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class CredentialsError(ValueError):
    """The database secret is missing a key or has a malformed value (never shows the password)."""


class TlsConfigurationError(RuntimeError):
    """No usable CA bundle, or a context that would not verify the server: we refuse to connect."""


@dataclass(frozen=True)
class Endpoint:
    """A database endpoint: a DNS name (or IPv4 address) and an optional port override."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """Parse `host` or `host:port`; raises ValueError naming what is wrong."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("endpoint must be a non-empty 'host' or 'host:port' string")
        host, sep, port_text = text.strip().rpartition(":")
        if not sep:
            host, port_text = port_text, ""
        if not _HOSTNAME.match(host):
            raise ValueError(f"endpoint host {host!r} is not a valid DNS name or IPv4 address")
        if not sep:
            return cls(host=host)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"endpoint port {port_text!r} must be an integer in 1..65535")
        return cls(host=host, port=int(port_text))

    def __str__(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DbCredentials:
    """A database login, as stored in the stack's Secrets Manager secret."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    dbname: str

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any] | str) -> DbCredentials:
        """Parse the secret JSON (`engine, host, port, username, password, dbname, ...`).

        Unknown keys (`engine`, `globalClusterIdentifier`) are ignored. Raises `CredentialsError`
        naming the missing or malformed keys; the password never appears in a message.
        """
        if isinstance(secret, str):
            try:
                secret = json.loads(secret)
            except json.JSONDecodeError as exc:
                # The message of a JSON error can quote the document: keep only the position.
                raise CredentialsError(
                    f"secret is not valid JSON (line {exc.lineno}, column {exc.colno})"
                ) from None
        if not isinstance(secret, Mapping):
            raise CredentialsError("secret must be a JSON object")
        missing = [key for key in SECRET_KEYS if secret.get(key) in (None, "")]
        if missing:
            raise CredentialsError(f"secret is missing required key(s): {', '.join(missing)}")
        for key in ("host", "username", "password", "dbname"):
            if not isinstance(secret[key], str):
                raise CredentialsError(f"secret key {key!r} must be a string")
        port = secret["port"]
        if isinstance(port, bool) or not (
            isinstance(port, int) or (isinstance(port, str) and port.isdigit())
        ):
            raise CredentialsError("secret key 'port' must be an integer")
        if not 0 < int(port) < 65536:
            raise CredentialsError("secret key 'port' must be in 1..65535")
        return cls(
            host=secret["host"],
            port=int(port),
            username=secret["username"],
            password=secret["password"],
            dbname=secret["dbname"],
        )

    def at(self, endpoint: Endpoint | str, port: int | None = None) -> DbCredentials:
        """The same login aimed at another endpoint (port: explicit, else endpoint's, else ours)."""
        if isinstance(endpoint, str):
            endpoint = Endpoint.parse(endpoint)
        return replace(self, host=endpoint.host, port=port or endpoint.port or self.port)


def read_secret_json(
    secretsmanager_client: Any,
    secret_id: str,
    version_stage: str | None = AWSCURRENT,
    version_id: str | None = None,
) -> dict[str, Any]:
    """The secret's JSON object for a stage and/or version id (ClientError propagates)."""
    kwargs: dict[str, str] = {"SecretId": secret_id}
    if version_stage:
        kwargs["VersionStage"] = version_stage
    if version_id:
        kwargs["VersionId"] = version_id
    response = secretsmanager_client.get_secret_value(**kwargs)
    text = response.get("SecretString")
    if text is None:
        raise CredentialsError(f"secret {secret_id!r} has no SecretString (binary secret?)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise CredentialsError(f"secret {secret_id!r} is not valid JSON") from None
    if not isinstance(value, dict):
        raise CredentialsError(f"secret {secret_id!r} must be a JSON object")
    return value


def read_credentials(
    secretsmanager_client: Any,
    secret_id: str,
    version_stage: str | None = AWSCURRENT,
    version_id: str | None = None,
) -> DbCredentials:
    """Read and parse the database secret (default: its AWSCURRENT version)."""
    return DbCredentials.from_secret(
        read_secret_json(secretsmanager_client, secret_id, version_stage, version_id)
    )


# --- TLS ----------------------------------------------------------------------------------------


def ca_bundle_path(environ: Mapping[str, str] | None = None) -> str:
    """`$DB_CA_BUNDLE`, else the RDS CA bundle shipped next to this module in the layer."""
    env = os.environ if environ is None else environ
    return env.get(CA_BUNDLE_ENV) or DEFAULT_CA_BUNDLE


@lru_cache(maxsize=8)
def _cached_context(path: str, mtime_ns: int, size: int) -> ssl.SSLContext:
    # Loading the RDS bundle (100+ certificates) per connection is wasted work; an SSLContext is
    # safe to share between threads. The key includes mtime/size so a replaced file is reloaded.
    del mtime_ns, size
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        raise TlsConfigurationError(
            f"CA bundle {path!r} is not a usable PEM bundle: {exc}"
        ) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def build_ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """A verifying client context (CERT_REQUIRED, hostname check, TLS >= 1.2) from a CA bundle.

    `ca_bundle` defaults to `ca_bundle_path()`. Raises `TlsConfigurationError` when the file is
    missing or unreadable: there is deliberately no fallback to an unverified connection.
    """
    path = ca_bundle or ca_bundle_path()
    try:
        stat = os.stat(path)
    except OSError:
        raise TlsConfigurationError(
            f"CA bundle {path!r} not found: set {CA_BUNDLE_ENV} or ship rds-ca-bundle.pem in the "
            "layer (connections without certificate verification are refused)"
        ) from None
    return _cached_context(path, stat.st_mtime_ns, stat.st_size)


def require_verified(context: object) -> ssl.SSLContext:
    """Return `context` if it verifies certificate and hostname, else raise TlsConfigurationError."""
    if not isinstance(context, ssl.SSLContext):
        raise TlsConfigurationError("an ssl.SSLContext is required (plaintext is not allowed)")
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise TlsConfigurationError(
            "the SSL context must use CERT_REQUIRED and check_hostname=True"
        )
    return context


def connect(
    credentials: DbCredentials,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    application_name: str = DEFAULT_APPLICATION_NAME,
    statement_timeout_ms: int | None = None,
) -> pg8000.native.Connection:
    """Open a verified-TLS pg8000 native connection.

    `ssl_context` defaults to `build_ssl_context()` (never to plaintext). `timeout` (seconds, > 0)
    bounds the TCP connect and every later socket read. `statement_timeout_ms` additionally makes
    the *server* cancel a query that runs too long, so a stuck probe leaves nothing behind.
    """
    context = require_verified(build_ssl_context() if ssl_context is None else ssl_context)
    if timeout is None or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    startup_params = None
    if statement_timeout_ms is not None:
        startup_params = {"statement_timeout": str(int(statement_timeout_ms))}
    sock = open_tcp_socket(credentials.host, credentials.port, timeout)
    try:
        return pg8000.native.Connection(
            user=credentials.username,
            password=credentials.password,
            # Still given with `sock`: the name the certificate must match (SNI, check_hostname).
            host=credentials.host,
            port=credentials.port,
            database=credentials.dbname,
            ssl_context=context,
            timeout=timeout,
            application_name=application_name,
            startup_params=startup_params,
            sock=sock,
        )
    except BaseException:
        # pg8000 closes what it wrapped on a failed start-up, but not a socket it never took.
        sock.close()
        raise


def open_tcp_socket(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket for a PostgreSQL session: `timeout` on the connect and every later
    read, keep-alive on, and Nagle's algorithm off.

    pg8000 opens its sockets with Nagle on. The TLS and SCRAM start-up then sends two small
    writes back to back, and the second one waits for the server's delayed ACK (about 40 ms on
    Linux): a login took 57 ms on loopback with Nagle on and 13 ms with it off. libpq turns it
    off on every TCP connection for this reason (`connectNoDelay` in
    src/interfaces/libpq/fe-connect.c). A failed connect raises pg8000's `InterfaceError`, as
    pg8000's own connect does.
    """
    try:
        sock = socket.create_connection((host, port), timeout)
    except OSError as exc:
        raise pg8000.native.InterfaceError(
            f"Can't create a connection to host {host} and port {port} (timeout is {timeout})."
        ) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # What pg8000 sets on a socket it opens itself (its default `tcp_keepalive=True`).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return sock


Connector = Callable[[DbCredentials], pg8000.native.Connection]


def application_name(service: str) -> str:
    """The name a function's sessions carry in `pg_stat_activity`: `aurora-dr-<service>` with
    hyphens (`connection_drainer` -> `aurora-dr-connection-drainer`)."""
    return f"{DEFAULT_APPLICATION_NAME}-{service.replace('_', '-')}"


def connector(
    service: str,
    *,
    timeout: float,
    ca_bundle: str | None = None,
    statement_timeout_ms: int | None = None,
) -> Connector:
    """`connect` bound to one function: verified TLS, its timeout and its application name.

    The TLS context is built now from `ca_bundle` (default: `ca_bundle_path()`), so a missing or
    unusable bundle raises `TlsConfigurationError` here, before the function does any work.
    """
    return partial(
        connect,
        ssl_context=build_ssl_context(ca_bundle),
        timeout=timeout,
        application_name=application_name(service),
        statement_timeout_ms=statement_timeout_ms,
    )


def close_quietly(connection: pg8000.native.Connection | None) -> None:
    """Close a connection, ignoring errors (the peer may already be gone)."""
    if connection is None:
        return
    # Closing a dead socket has nothing useful to report.
    with contextlib.suppress(Exception):
        connection.close()


# --- errors and SQL ---------------------------------------------------------------------------


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a pg8000 server error, else None."""
    if isinstance(exc, pg8000.native.DatabaseError) and exc.args:
        details = exc.args[0]
        if isinstance(details, dict):
            return details.get("C")
    return None


def is_auth_failure(exc: BaseException) -> bool:
    """True when the server rejected the login's password (SQLSTATE 28P01)."""
    return sqlstate(exc) == SQLSTATE_INVALID_PASSWORD


def describe_error(exc: BaseException) -> str:
    """A short, secret-free description of a connection/query error for logs and reports."""
    if isinstance(exc, pg8000.native.DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        details = exc.args[0]
        return f"{type(exc).__name__}: {details.get('C', '?')} {details.get('M', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password` in PostgreSQL's stored form,
    `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64, RFC 5803), with a fresh
    random salt. The password is SASLprep-normalised first, as the server does at login.

    PostgreSQL stores a presented verifier as it is: "If the presented password string is already
    in MD5-encrypted or SCRAM-encrypted format, then it is stored as-is regardless of
    password_encryption" (CREATE ROLE). The verifier cannot be turned back into the password.
    """
    salt, stored_key, server_key, iterations = ScramMechanism(SCRAM_MECHANISM).make_auth_info(
        password
    )

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return f"{SCRAM_MECHANISM}${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def alter_role_password_sql(role: str, password: str) -> str:
    """`ALTER ROLE "<role>" WITH PASSWORD '<SCRAM-SHA-256 verifier of password>'`.

    The clear-text password never enters the statement: PostgreSQL warns it "might also be logged
    in ... the server log" (ALTER ROLE), and with `log_statement=ddl` (the stack's cluster
    parameters) every ALTER ROLE is written to the database log exported to CloudWatch Logs.
    PostgreSQL cannot bind a parameter in a utility statement (`PASSWORD $1` is a syntax error),
    so the role is quoted with `identifier()` and the verifier with `literal()`.
    """
    if not password or "\x00" in password:
        raise ValueError("password must be a non-empty string without NUL characters")
    verifier = scram_verifier(password)
    return " ".join(("ALTER ROLE", identifier(role), "WITH PASSWORD", literal(verifier)))


def qualified_name(schema: str, name: str) -> str:
    """`"schema"."name"`, quoted by pg8000 (for table names that come from constants)."""
    return f"{identifier(schema)}.{identifier(name)}"
