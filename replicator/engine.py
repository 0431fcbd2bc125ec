"""The apply loop: pending changes -> entity keys -> entity syncs -> change statuses, quarantine, conflicts.

Entities are synced in dependency order (customers and products before the orders that point at them).
A key that fails is quarantined with its reason and never blocks other keys or entities; quarantined keys
are retried every cycle (cheap: only their keys), so they go through once their cause is fixed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from replicator.sentences import exception_text
from replicator.config import redact
from replicator.factusol.errors import is_transient as factusol_transient
from replicator.prestashop.connection import is_transient as shop_transient
from replicator.factusol.schema import FactusolWidthError
from replicator.halt import halted
from replicator.rules.errors import MappingError
from replicator.store import CONFLICT, ECHO, PENDING, QUARANTINED
from replicator.sync import stock_inputs
from replicator.sync.base import NOOP, EntitySync, Outcome, SyncContext, SyncError
from replicator.sync.registry import ENTITY_ORDER, HELPER_ENTITY, QUIET_INITIAL, SPLIT_INITIAL

log = logging.getLogger("replicator.apply")

BATCH = 5000
INITIAL_CHUNK = 2000  # keys per sync call in the initial sync
QUARANTINE_RETRY_SECONDS = 30.0  # quarantined keys are retried this often, and at once after a rule reload
# ... and at most this often after cycles that applied anything: retrying every quarantined key after every applied
# change cost a busy service a sync of each of them per cycle.  After a cycle that linked a record (an article or
# customer they need may now exist), the keys of the entities that can wait for it are retried at once
# (`_unblocked_by_new_links`).
QUARANTINE_RETRY_AFTER_APPLIED_SECONDS = 2.0


def outcome_text(outcomes: dict[str, int]) -> str:
    """{'applied': 3, 'noop': 9} -> 'applied 3, noop 9' (for log lines: words, not a Python repr)."""
    return ", ".join(f"{status} {n}" for status, n in sorted(outcomes.items())) or "nothing to do"


@dataclass
class ApplyReport:
    changes: int = 0
    keys: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the applying thread's own CPU time (time.thread_time), for the debug log

    def add(self, status: str) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + 1

    def merge(self, other: "ApplyReport") -> None:
        self.changes += other.changes
        self.keys += other.keys
        for status, n in other.outcomes.items():
            self.outcomes[status] = self.outcomes.get(status, 0) + n


class Engine:
    def __init__(self, ctx: SyncContext, syncs: dict[str, EntitySync]):
        self.ctx = ctx
        self.syncs = syncs
        self.retry_due = 0.0  # monotonic time of the next quarantine retry; 0 = now
        self._retried_at = 0.0
        self._links_seen = Counter(ctx.store.links_made)
        self._reported: dict[tuple[str, str], str] = {}  # last quarantine reason logged per key
        self._held: set[tuple[str, str]] | None = None  # keys with an open quarantine entry (loaded lazily)
        self._halt_said: str | None = None  # the halt reason already logged

    def _held_keys(self) -> set[tuple[str, str]]:
        if self._held is None:
            self._held = {(row.entity, row.key) for row in self.ctx.store.quarantined()}
        return self._held

    def rules_changed(self, syncs: dict[str, EntitySync]) -> None:
        """New rules: new syncs, and every quarantined key is retried on the next cycle."""
        self.syncs = syncs
        self.retry_due = 0.0

    # -- one cycle ------------------------------------------------------------------------------------
    def apply_pending(self) -> ApplyReport:
        report = ApplyReport()
        started, cpu_started = time.monotonic(), time.thread_time()
        stopped = halted(self.ctx.store)
        if stopped:  # a restored file or a replaced store: nothing is pushed until a person decides (halt.py)
            if self._halt_said != stopped.get("reason"):
                log.error("applying is stopped: %s. Run %s", stopped.get("reason"), stopped.get("command"))
                self._halt_said = stopped.get("reason")
            report.seconds = time.monotonic() - started
            return report
        self._halt_said = None
        while True:
            changes = self.ctx.store.changes(status=PENDING, limit=BATCH)
            if not changes:
                break
            report.changes += len(changes)
            self.ctx.cache.clear()  # per-cycle lookups must not outlive the changes they were built for
            self.ctx.shop.new_cycle()  # the shop's settings (time zone, search weights) read again, once
            self._apply_batch(changes, report)
        self.apply_resolutions(report)
        now = time.monotonic()
        unblocked = self._unblocked_by_new_links()
        applied = report.outcomes.get("applied") and now >= self._retried_at + QUARANTINE_RETRY_AFTER_APPLIED_SECONDS
        if applied or now >= self.retry_due:
            self.retry_quarantined(report)
            self._retried_at = time.monotonic()
            self.retry_due = self._retried_at + QUARANTINE_RETRY_SECONDS
        elif unblocked:
            self.retry_quarantined(report, only=unblocked)
        self.sync_stock_inputs(report)
        report.seconds = time.monotonic() - started
        report.cpu_seconds = time.thread_time() - cpu_started
        return report

    def _apply_batch(self, changes, report: ApplyReport) -> None:
        store = self.ctx.store
        changes = self._drop_own_webservice_writes(changes, report)
        # entity -> key -> change ids that touch it
        touched: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        unrouted: list[int] = []
        for change in changes:
            routed = False
            for entity, sync in self.syncs.items():
                try:
                    keys = sync.keys_for_change(self.ctx, change)
                except SyncError as exc:
                    store.quarantine(exc.entity, exc.key, change.side, exc.reason, exc.field, change.id)
                    store.set_change_status([change.id], QUARANTINED, str(exc), f"{exc.entity}:{exc.key}")
                    routed = True
                    continue
                for key in keys:
                    touched[entity][key].append(change.id)
                    routed = True
            if not routed:
                unrouted.append(change.id)
        # A change no entity cares about (e.g. a column outside every rule) is done.
        store.set_change_status(unrouted, "applied", "no rule maps this change")
        final: dict[int, tuple[Outcome, str]] = {}
        for entity in ENTITY_ORDER:
            if entity not in touched:
                continue
            keys = touched[entity]
            outcomes = self.sync_keys(entity, list(keys))
            report.keys += len(keys)
            for key, outcome in outcomes.items():
                report.add(outcome.status)
                for change_id in keys[key]:
                    # A change routed to several entities keeps its worst outcome.
                    previous = final.get(change_id)
                    if previous is None or _rank(outcome.status) > _rank(previous[0].status):
                        final[change_id] = (outcome, f"{entity}:{key}")
        by_status: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for change_id, (outcome, held_by) in final.items():
            held = held_by if outcome.status in (QUARANTINED, CONFLICT) else ""
            by_status[(outcome.change_status, outcome.detail, held)].append(change_id)
        # one store transaction for the whole batch's outcomes (each key's detail differs: a commit per key before)
        store.set_change_statuses((ids, status, detail, held) for (status, detail, held), ids in by_status.items())
        self.sync_stock_inputs(report)

    def sync_stock_inputs(self, report: ApplyReport | None = None) -> None:
        """The shop stock of articles whose FactuSOL stock inputs this apply wrote (pending units of a pedido, a
        cancellation releasing them): our own FactuSOL writes are never captured again, so it is synced now."""
        articles = stock_inputs.take(self.ctx)
        if articles and "stock" in self.syncs:
            for outcome in self.sync_keys("stock", articles).values():
                if report:
                    report.add(outcome.status)

    def _drop_own_webservice_writes(self, changes, report: ApplyReport) -> list:
        """Shop rows PrestaShop wrote for a state change we asked its webservice for: our echo (sync/shop_state)."""
        from replicator.sync import shop_state

        own = shop_state.own_changes(self.ctx, changes) if any(c.side == "prestashop" for c in changes) else {}
        by_reason: dict[str, list[int]] = defaultdict(list)
        for change_id, why in own.items():
            by_reason[why].append(change_id)
        for why, ids in by_reason.items():
            self.ctx.store.set_change_status(ids, ECHO, why)
            report.outcomes[ECHO] = report.outcomes.get(ECHO, 0) + len(ids)
        return [c for c in changes if c.id not in own]

    def sync_keys(
        self, entity: str, keys: list[str], quiet: bool = False, ctx: SyncContext | None = None
    ) -> dict[str, Outcome]:
        """Sync keys of one entity, turning failures into quarantine entries (per key, never per batch).

        ``quiet``: what was applied is logged at DEBUG, not INFO (the initial sync reports progress instead of
        one line per created product); quarantines and conflicts are always logged."""
        sync = self.syncs[entity]
        ctx = ctx or self.ctx
        store = ctx.store
        try:
            outcomes = sync.sync(ctx, keys)
        except Exception as exc:
            if is_transient(exc):
                raise  # a locked file or a lost connection: the whole cycle waits and retries
            # a batch-level failure: retry key by key so one bad row cannot hold the others back
            outcomes = {}
            for key in keys:
                try:
                    outcomes.update(sync.sync(ctx, [key]))
                except SyncError as key_exc:
                    outcomes[key] = self._quarantine(key_exc)
                except MappingError as key_exc:  # a value its column can't hold (rules/fit.py): named, not a crash
                    outcomes[key] = self._quarantine(SyncError(entity, key, key_exc.reason, key_exc.field))
                except FactusolWidthError as key_exc:
                    outcomes[key] = self._quarantine(SyncError(entity, key, str(key_exc), key_exc.column))
                except Exception as key_exc:
                    if is_transient(key_exc):
                        raise
                    log.debug("%s %s: unexpected error", entity, key, exc_info=True)  # for a developer's debug log
                    outcomes[key] = self._quarantine(
                        SyncError(entity, key, f"unexpected error: {redact(exception_text(key_exc))}")
                    )
        for key, outcome in outcomes.items():
            if outcome.status in ("applied", NOOP, ECHO):
                if (entity, key) in self._held_keys() and store.release_quarantine(entity, key):
                    log.info("%s %s: released from quarantine", entity, key)
                self._held_keys().discard((entity, key))
                self._reported.pop((entity, key), None)
                if outcome.status == "applied" and outcome.needs_person:
                    log.warning(
                        "%s %s: %s (parked for review: resolve it in the TUI or with `replicator resolve`)",
                        entity,
                        key,
                        outcome.detail,
                    )
                elif outcome.status == "applied":
                    log.log(
                        logging.DEBUG if quiet else logging.INFO, "%s %s: %s", entity, key, outcome.detail or "applied"
                    )
            elif outcome.status == QUARANTINED:
                self._held_keys().add((entity, key))
                if self._reported.get((entity, key)) != outcome.detail:  # say it once, not every retry
                    log.warning("%s %s quarantined: %s", entity, key, outcome.detail)
                    self._reported[(entity, key)] = outcome.detail
            elif outcome.status == CONFLICT:
                log.warning("%s %s: conflict parked for review: %s", entity, key, outcome.detail)
        return outcomes

    def _quarantine(self, exc: SyncError) -> Outcome:
        self.ctx.store.quarantine(exc.entity, exc.key, "any", exc.reason, exc.field)
        return Outcome(QUARANTINED, str(exc))

    def apply_resolutions(self, report: ApplyReport | None = None) -> None:
        """Write the conflicts people resolved (TUI, `replicator resolve`) to both sides."""
        for conflict in self.ctx.store.resolved_conflicts():
            sync = self.syncs.get(conflict.entity)
            if sync is None or not hasattr(sync, "apply_resolution"):
                continue
            value = json.loads(conflict.resolution) if conflict.resolution is not None else None
            try:
                sync.apply_resolution(self.ctx, conflict.key, conflict.field, value)
            except SyncError as exc:
                self._quarantine(exc)
                continue
            self.ctx.store.mark_conflict_applied(conflict.id)
            self.ctx.store.release_held_changes(conflict.entity, conflict.key)
            log.info(
                "%s %s: %s set to %r on both sides (conflict #%d, %s)",
                conflict.entity,
                conflict.key,
                conflict.field,
                value,
                conflict.id,
                conflict.resolved_by,
            )
            if report:
                report.add("resolved")

    def _unblocked_by_new_links(self) -> set[str]:
        """The entities whose quarantined keys may wait for a record linked since the last call: those after the
        linked ones in ENTITY_ORDER, the dependency order (an order waits for its customer and articles, an invoice
        for its order; a pedido created for a new order unblocks no other order)."""
        made = self.ctx.store.links_made
        linked = [entity for entity, n in made.items() if n != self._links_seen.get(entity, 0)]
        self._links_seen = Counter(made)
        if not linked:
            return set()
        first = min(ENTITY_ORDER.index(e) if e in ENTITY_ORDER else -1 for e in linked)
        return set(ENTITY_ORDER[first + 1 :])

    def retry_quarantined(self, report: ApplyReport | None = None, only: set[str] | None = None) -> None:
        """Re-run the keys waiting in quarantine (of the entities `only`, when given): a fixed rule or a created
        article lets them through."""
        pending: dict[str, set[str]] = defaultdict(set)
        self._held = None  # re-read: a person may have skipped entries from the TUI or CLI
        for row in self.ctx.store.quarantined():
            if row.entity in self.syncs and (only is None or row.entity in only):
                pending[row.entity].add(row.key)
                # Logged already where it was quarantined (maybe another process: the first run's child, or this
                # service before a restart): a retry that fails for the same reason says nothing new.
                self._reported.setdefault(
                    (row.entity, row.key), str(SyncError(row.entity, row.key, row.reason, row.field))
                )
        for entity in ENTITY_ORDER:
            if not pending.get(entity):
                continue
            for outcome in self.sync_keys(entity, sorted(pending[entity])).values():
                if report:
                    report.add("retried_" + outcome.status)

    # -- initial sync ---------------------------------------------------------------------------------
    def initial_sync(self, progress=None, helper=None, before_main: Callable[[], None] | None = None) -> ApplyReport:
        """Every key of every entity, linking before creating; resumable (each key is idempotent).

        With a ``helper`` (`replicator.workers`: a child process or threads, each job with its own connections
        to both sides and the same store), customers are synced there while products and stock run here: they touch
        different rows on both sides.  Stock, once products are done, is split in two halves, one here and one on
        the helper (`SPLIT_INITIAL`), if the customers are done by then (else all of it here: its half would
        wait for them).  Orders wait for all of it, since they point at customers and products.

        ``before_main`` runs here before the first entity: once the customers' job is under way when there is a
        helper (the rest of the first sight, which customers do not read), else first of all.
        """
        report = ApplyReport()
        started = time.monotonic()
        entities = [e for e in ENTITY_ORDER if e in self.syncs]
        if helper is None:
            if before_main is not None:
                before_main()
            for entity in entities:
                report.merge(self.initial_entity(self.ctx, entity, progress))
        else:
            self._initial_with_helper(report, entities, helper, progress, before_main)
        self.sync_stock_inputs(report)  # pedidos written after the stock was: their pending units
        report.seconds = time.monotonic() - started
        return report

    def _initial_with_helper(
        self, report: ApplyReport, entities: list[str], helper, progress, before_main: Callable[[], None] | None
    ) -> None:
        """`initial_sync` with a helper: customers there beside products and stock, stock in two halves."""
        customers: Future | None = None
        if HELPER_ENTITY in entities:
            entities.remove(HELPER_ENTITY)
            customers = helper.submit(HELPER_ENTITY)
        if before_main is not None:
            before_main()
        for entity in entities:
            if customers is not None and ENTITY_ORDER.index(entity) >= ENTITY_ORDER.index("order"):
                report.merge(customers.result())  # orders need every customer first
                customers = None
            if entity in SPLIT_INITIAL and (customers is None or customers.done()):
                report.merge(self._initial_split(helper, entity, progress))
            else:
                report.merge(self.initial_entity(self.ctx, entity, progress))
        if customers is not None:
            report.merge(customers.result())

    def _initial_split(self, helper, entity: str, progress) -> ApplyReport:
        """The first half of the entity's keys here, the second on the helper."""
        keys = self._all_keys(self.ctx, entity, progress)
        middle = len(keys) // 2 if len(keys) > INITIAL_CHUNK else len(keys)  # a few keys: not worth the hand-over
        other = helper.submit(entity, keys[middle:]) if middle < len(keys) else None
        report = self.initial_entity(self.ctx, entity, progress, keys[:middle])
        if other is not None:
            report.merge(other.result())
        return report

    def _all_keys(self, ctx: SyncContext, entity: str, progress) -> list:
        keys = self.syncs[entity].all_keys(ctx)
        keys = keys if isinstance(keys, list) else list(keys)  # a list subclass (FileOrder) keeps what it says
        if progress:
            progress.start(entity, len(keys))
        return keys

    def initial_entity(self, ctx: SyncContext, entity: str, progress, keys: list | None = None) -> ApplyReport:
        """Sync ``keys`` of the entity (all of them when None) in chunks of INITIAL_CHUNK."""
        report = ApplyReport()
        if keys is None:
            keys = self._all_keys(ctx, entity, progress)
        for i in range(0, len(keys), INITIAL_CHUNK):
            chunk = keys[i : i + INITIAL_CHUNK]
            quiet = entity in QUIET_INITIAL  # thousands of rows: progress lines say how far it is
            for outcome in self.sync_keys(entity, chunk, quiet=quiet, ctx=ctx).values():
                report.add(outcome.status)
            report.keys += len(chunk)
            if progress:
                progress.advance(entity, len(chunk))
        return report


def is_transient(exc: BaseException) -> bool:
    """Errors that say "try again later" (connection lost, file locked), not "this row is bad"."""
    return shop_transient(exc) or factusol_transient(exc)


def _rank(status: str) -> int:
    return {NOOP: 0, ECHO: 0, "applied": 1, CONFLICT: 2, QUARANTINED: 3}.get(status, 1)
