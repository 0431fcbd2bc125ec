"""Customers: new shop customers (registered and guests) become F_CLI rows; linked customers merge both ways.

Keys are ``ps:<id_customer>`` for customers that exist in the shop and ``fs:<CODCLI>`` for FactuSOL customers
not linked to one (those are only looked at, never pushed: new customers flow shop -> FactuSOL).

New customers are made in bulk by `customer_create`; the fields and their mapping to each side's columns are in
`customer_fields`.

The baseline of a linked customer holds BOTH sides' last agreed images.  A field moved on one side when it
differs from that side's image, so two sides that legitimately show a field differently (e.g. a name split
into first/last) are "agreed to differ" and nothing flaps.  On the first link (initial sync by NIF, then
e-mail) only blanks are filled; no existing data is overwritten on either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.factusol.schema import FactusolWidthError
from replicator.keys import SHOP, canon, factusol_code_key, is_factusol_key, shop_id, shop_key
from replicator.model import Customer
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.rules.decisions import anonymise
from replicator.rules.merge import MergeResult, merge_field
from replicator.store import Change
from replicator.sync.base import CONFLICT, NOOP, Outcome, SyncContext, SyncError, image, row_key
from replicator.sync.customer_create import create_customers
from replicator.sync.customer_fields import (
    ADDRESS_ENTITY,
    ENTITY,
    FIELDS,
    GUEST_ENTITY,
    address_columns,
    fs_columns,
    normalise_nif,
    ps_columns,
    quarantined,
)
from replicator.sync.customer_fields import fields_of as _fields  # also what reconcile compares
from replicator.sync.echo import factusol_writes, shop_marker

_UNCHANGED = "\x00unchanged"  # marks "this side did not move" for merge_field


@dataclass
class _Batch:
    """What `CustomerSync.sync` reads once for all its keys."""

    shop: dict[int, Customer]  # shop customers by id
    links: dict[int, int]  # shop id -> F_CLI code, for the linked ones
    linked: set[str]  # F_CLI codes the unlinked ones could match that are linked already (grows as the batch links)
    factusol: dict[int, Customer]  # the linked F_CLI customers by code
    bases: dict[str, dict]  # baselines of the linked keys

    @classmethod
    def read(cls, sync: "CustomerSync", ctx: SyncContext, keys: list[str]) -> "_Batch":
        ps_ids = [shop_id(k) for k in keys if k.startswith(SHOP)]
        shop = {c.prestashop_id: c for c in ps_reader.read_customers(ctx.shop, ps_ids)} if ps_ids else {}
        links = {int(ps): int(code) for ps, code in ctx.store.id_map_by_prestashop(ENTITY, ps_ids).items()}
        linked = sync._linked_candidates(ctx, [c for i, c in shop.items() if i not in links])
        factusol = (
            {c.factusol_code: c for c in fs_reader.read_customers(ctx.factusol, list(links.values()))} if links else {}
        )
        bases = ctx.store.baselines(ENTITY, [shop_key(i) for i in links]) if links else {}
        return cls(shop, links, linked, factusol, bases)


class CustomerSync:
    entity = ENTITY

    # -- routing ----------------------------------------------------------------------------------------
    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        table = change.source_table
        if change.side == "prestashop" and table in ("customer", "address"):
            customer_id = image(change).get("id_customer")
            return [shop_key(customer_id)] if customer_id else []
        if change.side == "factusol" and table in ("F_CLI", "F_OBR"):
            pk = row_key(change)
            code = pk.get("CODCLI", pk.get("CLIOBR"))
            link = ctx.store.map_id(ENTITY, factusol_key=str(code))
            return [shop_key(link.prestashop_id) if link else factusol_code_key(code)]
        return []

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        return [shop_key(i) for i in ps_reader.customer_ids(ctx.shop)]

    # -- sync -------------------------------------------------------------------------------------------
    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Any]:
        """Both sides of every key are read once for the batch; merged keys' baselines are written together at the
        end (also when a key raises), new customers are created together."""
        batch = _Batch.read(self, ctx, keys)
        outcomes: dict[str, Outcome] = {}
        to_create: dict[str, Customer] = {}
        self._pending: dict[str, dict] | None = {}
        try:
            for key in dict.fromkeys(keys):
                try:
                    outcome = self._sync_key(ctx, key, batch)
                except (SyncError, FactusolWidthError) as exc:
                    outcome = quarantined(ctx, key, exc)
                if outcome is None:
                    to_create[key] = batch.shop[shop_id(key)]
                else:
                    outcomes[key] = outcome
            if to_create:
                outcomes.update(create_customers(ctx, to_create))
        finally:
            pending, self._pending = self._pending, None
            ctx.store.set_baselines(ENTITY, pending)
        return {key: outcomes[key] for key in dict.fromkeys(keys) if key in outcomes}

    def _sync_key(self, ctx: SyncContext, key: str, batch: "_Batch") -> Outcome | None:
        """One key with what the batch read; None: a shop customer to create."""
        if is_factusol_key(key):
            return Outcome(NOOP, "FactuSOL-only customer: new customers flow from the shop")
        ps_id = shop_id(key)
        shop = batch.shop.get(ps_id)
        code = batch.links.get(ps_id)
        if shop is None or shop.deleted:
            return self._deleted_in_shop(ctx, key, code)
        if code is None:
            return self._link_or_create(ctx, key, shop, batch.linked)
        if code not in batch.factusol:
            ctx.store.quarantine(ENTITY, key, "factusol", f"linked FactuSOL customer {code} no longer exists")
            return Outcome("quarantined", f"customer {key}: linked FactuSOL customer {code} is missing")
        return self._merge(ctx, key, code, batch.factusol[code], shop, batch.bases.get(key))

    # -- new customers ------------------------------------------------------------------------------------
    def _linked_candidates(self, ctx: SyncContext, unlinked: list[Customer]) -> set[str]:
        """The FactuSOL codes these unlinked shop customers could match (NIF, e-mail) that are already linked to
        another shop customer: one store lookup per batch; the set grows as the batch links."""
        if not unlinked:
            return set()
        by_nif, by_email, _codes = self._fs_index(ctx)
        candidates: set[int] = set()
        for shop in unlinked:
            candidates.update(by_nif.get(normalise_nif(shop.nif), ()) if normalise_nif(shop.nif) else ())
            candidates.update(by_email.get(shop.email.strip().lower(), ()) if shop.email else ())
        return set(ctx.store.id_map_for(ENTITY, candidates)) if candidates else set()

    def _fs_index(self, ctx: SyncContext) -> tuple[dict[str, list[int]], dict[str, list[int]], set[int]]:
        if "customers_by_nif" not in ctx.cache:
            by_nif: dict[str, list[int]] = {}
            by_email: dict[str, list[int]] = {}
            codes: set[int] = set()
            for c in fs_reader.read_customers(ctx.factusol):
                codes.add(c.factusol_code)
                if normalise_nif(c.nif):
                    by_nif.setdefault(normalise_nif(c.nif), []).append(c.factusol_code)
                if c.email:
                    by_email.setdefault(c.email.strip().lower(), []).append(c.factusol_code)
            ctx.cache.update(customers_by_nif=by_nif, customers_by_email=by_email, customer_codes=codes)
        return ctx.cache["customers_by_nif"], ctx.cache["customers_by_email"], ctx.cache["customer_codes"]

    def _link_or_create(self, ctx: SyncContext, key: str, shop: Customer, linked: set[str]) -> Outcome | None:
        """Link by NIF, then e-mail (an ambiguous match raises SyncError); None: the customer must be created."""
        rules = ctx.rules.entity(ENTITY)
        codes_rule = rules.options.get("codes", {})
        if shop.is_guest and "single" in codes_rule.get("guests", {}):
            code = int(codes_rule["guests"]["single"])
            ctx.store.link(GUEST_ENTITY, f"{code}:{shop.prestashop_id}", str(shop.prestashop_id))
            return Outcome(NOOP, f"guest uses the shared FactuSOL customer {code}")
        by_nif, by_email, _codes = self._fs_index(ctx)
        candidates, how = [], ""
        if normalise_nif(shop.nif):
            candidates, how = by_nif.get(normalise_nif(shop.nif), []), "NIF"
        if not candidates and shop.email:
            candidates, how = by_email.get(shop.email.strip().lower(), []), "e-mail"
        candidates = [c for c in candidates if str(c) not in linked]
        if len(candidates) > 1:
            raise SyncError(
                ENTITY,
                key,
                f"ambiguous match by {how}: FactuSOL customers "
                f"{', '.join(map(str, sorted(candidates)))}; fix the duplicates, or link one by hand: "
                f"replicator link customer --factusol CODE --prestashop {shop_id(key)}",
                "nif" if how == "NIF" else "email",
            )
        if candidates:
            linked.add(str(candidates[0]))
            return self._first_link(ctx, key, candidates[0], shop, how)
        return None

    def _first_link(self, ctx: SyncContext, key: str, code: int, shop: Customer, how: str) -> Outcome:
        fs = fs_reader.read_customers(ctx.factusol, [code])[0]
        fs_fields, ps_fields = _fields(fs), _fields(shop)
        rules = ctx.rules.entity(ENTITY)
        directions = rules.directions()
        fill_fs = {
            n: ps_fields[n]
            for n in FIELDS
            if not fs_fields[n] and ps_fields[n] and directions.get(n, "both") in ("both", "to_factusol")
        }
        fill_ps = {
            n: fs_fields[n]
            for n in FIELDS
            if not ps_fields[n] and fs_fields[n] and directions.get(n, "both") in ("both", "to_prestashop")
        }
        ctx.store.link(ENTITY, str(code), str(shop.prestashop_id))
        self._write(ctx, key, code, shop, fill_fs, fill_ps)
        fs = fs_reader.read_customers(ctx.factusol, [code])[0] if fill_fs else fs
        shop = ps_reader.read_customers(ctx.shop, [shop.prestashop_id])[0] if fill_ps else shop
        self._save_baseline(ctx, key, fs, shop)
        notes = self._sync_addresses(ctx, key, code, shop)
        return Outcome(
            "applied",
            f"linked to FactuSOL customer {code} by {how}"
            + (f"; filled {', '.join(sorted({*fill_fs, *fill_ps}))}" if fill_fs or fill_ps else "")
            + (f"; {'; '.join(notes)}" if notes else ""),
        )

    # -- existing customers --------------------------------------------------------------------------------
    def _merge(self, ctx: SyncContext, key: str, code: int, fs: Customer, shop: Customer, base: dict | None) -> Outcome:
        rules = ctx.rules.entity(ENTITY)
        if base is None:
            return self._first_link(ctx, key, code, shop, "id map")
        fs_now, ps_now = _fields(fs), _fields(shop)
        times = (fs.updated_at, shop.updated_at)
        result = MergeResult()
        for name in FIELDS:
            fs_in = fs_now[name] if fs_now[name] != base["factusol"].get(name) else _UNCHANGED
            ps_in = ps_now[name] if ps_now[name] != base["prestashop"].get(name) else _UNCHANGED
            if fs_in is _UNCHANGED and ps_in is _UNCHANGED:
                continue
            rule = rules.fields.get(name)
            merge_field(
                name,
                _UNCHANGED,
                fs_in,
                ps_in,
                rule.policy if rule else "manual",
                rule.direction if rule else "both",
                times,
                result,
            )
        to_fs = {k: v for k, v in result.to_factusol.items() if v is not _UNCHANGED}
        to_ps = {k: v for k, v in result.to_prestashop.items() if v is not _UNCHANGED}
        for conflict in result.conflicts:
            ctx.store.open_conflict(
                ENTITY,
                key,
                conflict.field,
                base["factusol"].get(conflict.field),
                conflict.factusol,
                conflict.prestashop,
            )
        addresses = self._sync_addresses(ctx, key, code, shop)
        if not to_fs and not to_ps and not result.conflicts:
            self._save_baseline(ctx, key, fs, shop, keep=base)
            return Outcome("applied", "; ".join(addresses)) if addresses else Outcome(NOOP)
        parked = {c.field for c in result.conflicts}
        fs_after = self._write(ctx, key, code, shop, to_fs, to_ps, base=base, parked=parked) or fs
        ps_after = ps_reader.read_customers(ctx.shop, [shop.prestashop_id])[0] if to_ps else shop
        self._save_baseline(ctx, key, fs_after, ps_after, keep=base, parked=parked)
        parts = []
        if to_fs:
            parts.append(f"-> FactuSOL {code}: {', '.join(sorted(to_fs))}")
        if to_ps:
            parts.append(f"-> shop: {', '.join(sorted(to_ps))}")
        parts += addresses
        if parked:
            parts.append(f"conflict on {', '.join(sorted(parked))}")
        return Outcome(
            CONFLICT if parked and not parts[:-1] else "applied", "; ".join(parts), needs_person=bool(parked)
        )

    def apply_resolution(self, ctx: SyncContext, key: str, field_name: str, value: Any) -> None:
        """Write a person's decision on a conflict to both sides and move the baseline past it."""
        code = int(ctx.store.map_id(ENTITY, prestashop_id=str(shop_id(key))).factusol_key)
        shop = ps_reader.read_customers(ctx.shop, [shop_id(key)])[0]
        self._write(ctx, key, code, shop, {field_name: value}, {field_name: value})
        fs = fs_reader.read_customers(ctx.factusol, [code])[0]
        shop = ps_reader.read_customers(ctx.shop, [shop_id(key)])[0]
        self._save_baseline(ctx, key, fs, shop)

    # -- delivery addresses (F_OBR) ---------------------------------------------------------------------------
    def _sync_addresses(self, ctx: SyncContext, key: str, code: int, shop: Customer) -> list[str]:
        """Every shop address after the first (the first one is F_CLI's own) is one F_OBR row of the customer.

        A shop address is linked to its F_OBR row in the id map (entity ``address``: ``CLIOBR:CODOBR`` <->
        id_address).  Unlinked: an F_OBR row of the customer with the same street and postcode is taken, else a
        row is inserted with CODOBR = MAX+1 of that customer.  Linked: columns the shop changed since the image last
        written are updated.  Widths follow the address rule (fit per field); an address that can't be mapped
        quarantines the customer key, naming the field.
        """
        if len(shop.addresses) < 2:
            return []
        ids = ps_reader.address_ids(ctx.shop, [shop.prestashop_id]).get(int(shop.prestashop_id), [])
        notes = []
        for address_id, address in list(zip(ids, shop.addresses))[1:]:
            columns = address_columns(ctx, key, address_id, address)
            link = ctx.store.map_id(ADDRESS_ENTITY, prestashop_id=str(address_id))
            number = int(link.factusol_key.split(":")[1]) if link and link.factusol_key.startswith(f"{code}:") else None
            if number is not None:
                last = ctx.store.baseline(ADDRESS_ENTITY, f"{code}:{number}") or {}
                changed = {c: v for c, v in columns.items() if last.get(c) != canon(v)}
                if not changed:
                    continue
            new_link = False
            with factusol_writes(ctx, ENTITY) as wrote:
                if number is None:
                    number = fs_reader.delivery_address_code(
                        ctx.factusol, code, columns.get("DIROBR", ""), columns.get("CPOOBR", "")
                    )
                    if number is None:
                        number = fs_writer.insert_delivery_address(ctx.factusol, code, columns)
                        notes.append(f"delivery address {address_id} -> F_OBR {code}/{number}")
                    else:
                        notes.append(f"delivery address {address_id} linked to F_OBR {code}/{number}")
                    new_link = True
                else:
                    fs_writer.update_fields(ctx.factusol, "F_OBR", {"CLIOBR": code, "CODOBR": number}, changed)
                    notes.append(f"F_OBR {code}/{number}: {', '.join(sorted(changed))}")
                wrote("F_OBR", {"CLIOBR": code, "CODOBR": number})
            if new_link:  # once the row is committed in FactuSOL
                ctx.store.link(ADDRESS_ENTITY, f"{code}:{number}", str(address_id))
            ctx.store.set_baseline(ADDRESS_ENTITY, f"{code}:{number}", {c: canon(v) for c, v in columns.items()})
        return notes

    # -- deletes ----------------------------------------------------------------------------------------
    def _deleted_in_shop(self, ctx: SyncContext, key: str, code: int | None) -> Outcome:
        if code is None:
            return Outcome(NOOP, "deleted in the shop before it reached FactuSOL")
        rules = ctx.rules.entity(ENTITY)
        action = rules.options.get("gdpr", {}).get("on_delete", "keep")
        base = ctx.store.baseline(ENTITY, key) or {}
        if base.get("deleted_action") == action:
            return Outcome(NOOP)
        if action != "keep":
            with factusol_writes(ctx, ENTITY) as wrote:
                if action == "block":
                    fs_writer.update_customer_fields(ctx.factusol, code, {"ESTCLI": 3, "NVCCLI": 1})
                elif action == "anonymise":
                    fields = anonymise(rules, {name: "" for name in FIELDS})
                    columns = fs_columns(ctx, key, {k: v for k, v in fields.items() if v})
                    fs_writer.update_customer_fields(ctx.factusol, code, columns)
                wrote("F_CLI", {"CODCLI": code})
        ctx.store.set_baseline(ENTITY, key, {**base, "deleted_action": action})
        return Outcome("applied", f"deleted in the shop: FactuSOL customer {code} -> {action} (customer rule gdpr)")

    # -- writes -----------------------------------------------------------------------------------------
    def _write(
        self,
        ctx: SyncContext,
        key: str,
        code: int,
        shop: Customer,
        to_fs: dict,
        to_ps: dict,
        base: dict | None = None,
        parked: set[str] = frozenset(),
    ) -> Customer | None:
        """Write FactuSOL's fields, then the shop's; returns FactuSOL's customer as written (read back in the write's
        own transaction), None when nothing was written there.  With the key's `base`, a FactuSOL write moves the
        baseline's FactuSOL image at once: a failure of what follows (the shop's write, the file locked) must not
        leave our own write looking like an edit made in FactuSOL, to be merged against the shop's next one."""
        written = None
        if to_fs:
            columns = fs_columns(ctx, key, to_fs)
            if columns:
                with factusol_writes(ctx, ENTITY) as wrote:
                    fs_writer.update_customer_fields(ctx.factusol, code, columns)
                    wrote("F_CLI", {"CODCLI": code})
                    written = fs_reader.read_customers(ctx.factusol, [code])[0]
                if base is not None:  # only the fields written move: what still waits for the shop stays moved
                    now = _fields(written)
                    moved = {n: now[n] for n in to_fs if n in now and n not in parked}
                    self._put_baseline(
                        ctx, key, {"factusol": {**base["factusol"], **moved}, "prestashop": dict(base["prestashop"])}
                    )
        if to_ps:
            customer, address = ps_columns(ctx, shop, to_ps)
            if customer or address:
                ps_writer.update_customer(
                    ctx.shop, shop.prestashop_id, customer, address, extra=shop_marker(ctx, f"customer {key}")
                )
        return written

    def _save_baseline(
        self,
        ctx: SyncContext,
        key: str,
        fs: Customer,
        shop: Customer,
        keep: dict | None = None,
        parked: set[str] = frozenset(),
    ) -> None:
        fs_image, ps_image = _fields(fs), _fields(shop)
        for name in parked:  # a parked conflict keeps the old images, so it is seen again until resolved
            fs_image[name] = keep["factusol"].get(name)
            ps_image[name] = keep["prestashop"].get(name)
        self._put_baseline(ctx, key, {"factusol": fs_image, "prestashop": ps_image})

    def _put_baseline(self, ctx: SyncContext, key: str, baseline: dict) -> None:
        if getattr(self, "_pending", None) is not None:  # inside `sync`: written with the batch's others
            self._pending[key] = baseline
        else:
            ctx.store.set_baseline(ENTITY, key, baseline)


def ensure_factusol_customer(ctx: SyncContext, ps_customer_id: int) -> int:
    """The F_CLI code a shop order of this customer must use; creates or links the customer first."""
    rules = ctx.rules.entity(ENTITY)
    guests = rules.options.get("codes", {}).get("guests", {})
    link = ctx.store.map_id(ENTITY, prestashop_id=str(ps_customer_id))
    if link is None:
        shop = ps_reader.read_customers(ctx.shop, [ps_customer_id])
        if shop and shop[0].is_guest and "single" in guests:
            return int(guests["single"])
        outcome = CustomerSync().sync(ctx, [shop_key(ps_customer_id)])[shop_key(ps_customer_id)]
        link = ctx.store.map_id(ENTITY, prestashop_id=str(ps_customer_id))
        if link is None:
            raise SyncError(
                ENTITY, shop_key(ps_customer_id), f"customer not in FactuSOL yet: {outcome.detail}", "factusol_code"
            )
    return int(link.factusol_key)


__all__ = ["CustomerSync", "ensure_factusol_customer", "normalise_nif"]
