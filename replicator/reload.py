"""Rules reloaded while the service runs, adopted by the service loop (not the file watcher's thread, so the checks
use the loop's own connections): the codes the new rules name are checked against the data (an unknown one keeps
the previous rules in force, each problem logged as file:line:col), then the new rules replace the old ones and the
log says how many keys they would change, with the resync that writes them."""

from __future__ import annotations

import logging

from replicator.sentences import exception_text
from replicator.rules.datacheck import check_against_data, read_codes
from replicator.resync import ENTITIES, plan, summary

log = logging.getLogger("replicator.rules")


def adopt(runtime, rules) -> bool:
    """Check, swap in and report new rules; False when they were refused (the previous rules stay)."""
    from replicator.sync import default_syncs

    ctx = runtime.ctx
    problems = check_against_data(runtime.config.rules_dir, read_codes(ctx.factusol, ctx.shop))
    if problems:
        for problem in problems:
            log.error("rule file error, previous rules stay in force: %s", problem)
        return False
    ctx.rules = rules
    runtime.engine.rules_changed(default_syncs(rules))
    log.info("rules reloaded from %s", runtime.config.rules_dir)
    try:
        changes = summary(plan(runtime.engine, ENTITIES))
    except Exception as exc:  # the estimate is advice: a failure to compute it never stops the service
        log.warning("could not tell what the new rules change: %s", exception_text(exc))
        return True
    if changes:
        log.warning(
            "the new rules would change %s already in the shop; see them with `replicator resync"
            " --dry-run` and write them with `replicator resync`",
            changes,
        )
    else:
        log.info("the new rules change nothing already in the shop")
    return True
