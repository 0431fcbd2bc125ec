"""Shared test environment for the customer/product/stock/initial-sync tests: a real MariaDB shop (ROW binlog),
the FactuSOL stand-in through pyodbc, a SQLite state store and the default rules, wired like `replicator run`."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from replicator.capture.service import capture_once
from replicator.config import Config, FactusolConfig, PrestashopConfig
from replicator.runtime import Runtime, open_runtime
from replicator.factusol.connection import connection_string_for
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox import shop as ps_sandbox
from replicator.rules import load_rules

FS_CONN = "DRIVER={SQLite3};Database={file};Timeout=200"
_SERVER_IDS = itertools.count(7100 + (os.getpid() % 500) * 10)


def build(
    mysql_server,
    mysql_db,
    tmp_path: Path,
    *,
    demo: bool = True,
    articles: int = 0,
    customers: int = 0,
    orders: int = 0,
    shop_products: int = 0,
    shop_customers: int = 0,
    capture: str = "binlog",
    journal_mode: str = "delete",
    workers: str = "process",
) -> Config:
    """Both sandboxes and a Config pointing at them (binlog capture, rules = the default rule files)."""
    shop_url = ps_sandbox.create_shop(
        mysql_server.url, mysql_db, demo=demo, products=shop_products, customers=shop_customers
    )
    fs_path = tmp_path / "0012025.sqlite"
    create_sandbox(fs_path, articles=articles, customers=customers, orders=orders, year=2025, journal_mode=journal_mode)
    rules_dir = Path(load_rules().files[0]).parent
    return Config(
        path=tmp_path / "replicator.yaml",
        store=f"sqlite:///{tmp_path / 'state.sqlite'}",
        rules_dir=rules_dir,
        factusol=FactusolConfig(file=fs_path, connection=FS_CONN),
        prestashop=PrestashopConfig(url=shop_url, capture=capture, server_id=next(_SERVER_IDS)),
        initial_sync_workers=workers,
    )


@dataclass
class Env:
    config: Config
    runtime: Runtime

    @property
    def ctx(self):
        return self.runtime.ctx

    @property
    def fs(self):
        return self.runtime.ctx.factusol

    @property
    def shop(self):
        return self.runtime.ctx.shop

    @property
    def store(self):
        return self.runtime.store

    @property
    def rules(self):
        return self.runtime.ctx.rules

    def cycle(self):
        """Capture both sides once, then apply everything pending: (capture report, apply report)."""
        captured = capture_once(self.config, self.store)
        assert not captured.errors, captured.errors
        return captured, self.runtime.engine.apply_pending()

    def baseline_capture(self):
        """First sight of both sides: row snapshots / binlog position, no change logged."""
        captured = capture_once(self.config, self.store)
        assert not captured.errors, captured.errors
        return captured

    def close(self):
        self.runtime.close()


def open_env(config: Config) -> Env:
    return Env(config, open_runtime(config))


__all__ = ["build", "open_env", "Env", "FS_CONN", "connection_string_for"]


def lock_the_file_once_on_read_back(monkeypatch, table: str) -> list:
    """The FactuSOL file locked (FactuSOL saving, a backup) the first time rows of `table` are read back after a
    write (`FactusolConnection.rows`, what the echo read-back uses); returns the reads it refused."""
    from replicator.factusol.connection import FactusolConnection
    from replicator.factusol.errors import FactusolLockedError

    real_rows, refused = FactusolConnection.rows, []

    def rows(self, name, where):
        if name == table and not refused:
            refused.append(where)
            raise FactusolLockedError("the FactuSOL file is locked by another program")
        return real_rows(self, name, where)

    monkeypatch.setattr(FactusolConnection, "rows", rows)
    return refused
