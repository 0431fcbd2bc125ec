"""Shared fixtures: a real MariaDB/MySQL server with ROW binlog, and a scratch FactuSOL stand-in path.

The server comes from, in order:
1. ``REPLICATOR_TEST_MYSQL_URL`` (e.g. ``mysql://root:pw@127.0.0.1:3306/``), which must have ROW binlog;
2. a testcontainers MariaDB when a Docker engine answers;
3. a throwaway ``mariadbd`` started in a temp folder on a free port.
Under ``CI=true`` a missing server fails the run; it is never skipped.  The same holds for the PostgreSQL the store
tests run on (``REPLICATOR_TEST_PG_URL``, else a throwaway cluster: ``pg_server``).
"""

from __future__ import annotations

import os
import types
import uuid
from pathlib import Path

import pymysql
import pytest

from replicator.sandbox import mariadb, postgres

# Every FactuSOL statement sent by any test is checked as Access SQL (see replicator/sandbox/access_sql.py).
pytest_plugins = ["replicator.sandbox.access_sql"]

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _docker_answers() -> bool:
    try:
        import docker  # installed with testcontainers

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


class MySQLServer:
    """What tests get: a server URL plus helpers to make scratch databases on it."""

    def __init__(self, url: str, local: mariadb.LocalMariaDB | None = None):
        self.url = url.rstrip("/") + "/"
        self.local = local

    def connect(self, database: str | None = None, **kw) -> pymysql.Connection:
        from replicator.config import parse_mysql_url

        params = parse_mysql_url(self.url)
        if database:
            params["database"] = database
        params.update(kw)
        return pymysql.connect(**params, autocommit=True)

    def fresh_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        return name

    def database_url(self, database: str) -> str:
        return self.url + database


@pytest.fixture(scope="session")
def mysql_server():
    url = os.environ.get("REPLICATOR_TEST_MYSQL_URL")
    if url:
        yield MySQLServer(url)
        return
    if _docker_answers():
        from testcontainers.mysql import MySqlContainer

        container = MySqlContainer("mariadb:10.11", username="root", password="test", dbname="test")
        container.with_command(
            "--log-bin=binlog --server-id=1 --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL"
        )
        with container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(3306)
            yield MySQLServer(f"mysql://root:test@{host}:{port}/")
        return
    if not mariadb.available():
        message = (
            "no MySQL for the tests: set REPLICATOR_TEST_MYSQL_URL, run a Docker engine, or install mariadb-server"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = mariadb.LocalMariaDB()
    try:
        server.start()
    except mariadb.LocalServerError as exc:
        pytest.fail(str(exc)) if IN_CI else pytest.skip(str(exc))
    try:
        yield MySQLServer(server.url, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL for the store: REPLICATOR_TEST_PG_URL, else a throwaway cluster started here (Debian's
    `postgresql`); under CI=true a missing server fails the run."""
    url = os.environ.get("REPLICATOR_TEST_PG_URL")
    if url:
        yield types.SimpleNamespace(url=url, local=None)
        return
    if not postgres.available():
        message = "no PostgreSQL for the tests: set REPLICATOR_TEST_PG_URL or install postgresql"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    server = postgres.LocalPostgres()
    try:
        server.start()
    except postgres.LocalPostgresError as exc:
        pytest.fail(str(exc)) if IN_CI else pytest.skip(str(exc))
    try:
        yield types.SimpleNamespace(url=server.url, local=server)
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the test PostgreSQL (dropped afterwards)."""
    import psycopg

    name = f"store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        pass


@pytest.fixture
def mysql_db(mysql_server):
    """An empty, uniquely named database on the test server; dropped afterwards."""
    name = mysql_server.fresh_database()
    yield name
    try:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    except pymysql.MySQLError:
        pass


@pytest.fixture
def reference_dir():
    if not REFERENCE_DIR.is_dir():
        pytest.skip("../shared/reference is not present (reference-only test)")
    return REFERENCE_DIR
