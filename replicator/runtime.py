"""Wiring: open the state store, the rules, a connection to each side and the apply engine for a run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from replicator.config import Config
from replicator.engine import Engine
from replicator.factusol.connection import open_factusol
from replicator.factusol.years import configured_file, connection_string, fiscal_year
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.support import check_supported
from replicator.rules import load_rules
from replicator.store import Store
from replicator.sync import default_syncs
from replicator.sync.base import SyncContext

log = logging.getLogger("replicator")


@dataclass
class Runtime:
    """The open parts of a running replicator; `close()` releases them."""

    config: Config
    store: Store
    ctx: SyncContext
    engine: Engine

    def reconnect(self) -> None:
        """Re-open what a restarted MySQL left dead, and follow FactuSOL to a new fiscal-year file."""
        self.ctx.shop.ensure_connected()
        if self.config.factusol.data_dir:
            path = configured_file(self.config.factusol)
            year = fiscal_year(path)
            if year and year != self.ctx.factusol_year:
                log.info("FactuSOL fiscal year %s -> %s: now writing to %s", self.ctx.factusol_year, year, path)
                old = self.ctx.factusol
                self.ctx.factusol = open_factusol(
                    connection_string(self.config.factusol, path),
                    fast_executemany=self.config.factusol.fast_executemany,
                )
                self.ctx.factusol_year = year
                self.ctx.cache.clear()
                old.close()

    def close(self) -> None:
        for conn in (self.ctx.factusol, self.ctx.shop):
            try:
                conn.close()
            except Exception:  # closing is best effort on shutdown
                pass


def open_runtime(config: Config) -> Runtime:
    rules = load_rules(config.rules_dir)  # raises RulesError: the daemon refuses to start with invalid rules
    ctx = open_context(config, Store(config.store, config.store_namespace), rules)
    check_rules_against_data(ctx)
    return Runtime(config, ctx.store, ctx, Engine(ctx, default_syncs(rules)))


def check_rules_against_data(ctx: SyncContext) -> None:
    """Codes the rules name that FactuSOL or the shop lack stop the start (RulesError, file:line:col each)."""
    from replicator.rules.datacheck import check_against_data, read_codes
    from replicator.rules.errors import RulesError

    problems = check_against_data(ctx.config.rules_dir, read_codes(ctx.factusol, ctx.shop))
    if problems:
        ctx.factusol.close()
        ctx.shop.close()
        raise RulesError(problems)


def open_context(config: Config, store: Store, rules) -> SyncContext:
    """A sync context with its own connections to both sides (the caller closes them)."""
    path = configured_file(config.factusol)
    connection = connection_string(config.factusol, path)
    factusol = open_factusol(connection, fast_executemany=config.factusol.fast_executemany)
    ps = config.prestashop
    try:
        shop = ShopConnection.from_config(
            {"url": ps.url, "prefix": ps.prefix, "id_shop": ps.id_shop, "id_lang": ps.id_lang}
        )
    except BaseException:
        factusol.close()
        raise
    try:
        check_supported(shop)  # before anything is written to either side (UnsupportedShopError names the version)
    except BaseException:
        shop.close()
        factusol.close()
        raise
    return SyncContext(
        config=config,
        store=store,
        rules=rules,
        factusol=factusol,
        shop=shop,
        factusol_year=fiscal_year(path, connection),
    )
