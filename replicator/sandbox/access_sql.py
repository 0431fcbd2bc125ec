"""Pytest helpers for FactuSOL tests: the per-test Access-SQL guard and sandbox fixtures.

Import them into a test module (``from replicator.sandbox.access_sql import *``) to activate them.  The guard fails
any test during which a statement that Access would reject reached the driver, so the check covers every test that
imports it, not only the last one.
"""

from __future__ import annotations

import shutil

import pytest

from replicator.factusol.connection import (
    STATEMENT_LOG,
    AccessSqlError,
    FactusolConnection,
    check_access_sql,
    last_statement_seq,
    open_factusol,
)
from replicator.factusol.connection import connection_string_for
from replicator.sandbox.factusol import create_sandbox

SANDBOX_YEAR = 2025


def rejected_sent_statements(since_seq: int = 0) -> list[tuple[str, str]]:
    """(sql, reason) for every recorded statement that reached the driver but fails the Access checker."""
    bad = []
    for rec in list(STATEMENT_LOG):
        if rec.seq <= since_seq or not rec.sent:
            continue
        try:
            check_access_sql(rec.sql)
        except AccessSqlError as exc:
            bad.append((rec.sql, str(exc)))
    return bad


@pytest.fixture(autouse=True)
def access_sql_guard():
    start = last_statement_seq()
    yield
    bad = rejected_sent_statements(start)
    assert not bad, f"statements Access would reject reached the driver: {bad}"


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory):
    """One seeded stand-in per session (1,000 articles, 200 customers); tests copy it."""
    path = tmp_path_factory.mktemp("factusol_template") / f"001{SANDBOX_YEAR}.sqlite"
    create_sandbox(path, articles=1000, customers=200, seed=0, year=SANDBOX_YEAR)
    return path


@pytest.fixture
def sandbox_path(sandbox_template, tmp_path):
    """A private copy of the template, so writer tests cannot disturb each other."""
    path = tmp_path / sandbox_template.name
    shutil.copyfile(sandbox_template, path)
    return path


@pytest.fixture
def fs_conn(sandbox_path) -> FactusolConnection:
    conn = open_factusol(connection_string_for(sandbox_path))
    yield conn
    conn.close()


__all__ = [
    "access_sql_guard",
    "fs_conn",
    "rejected_sent_statements",
    "sandbox_path",
    "sandbox_template",
    "SANDBOX_YEAR",
]
