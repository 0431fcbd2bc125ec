"""Customers: new shop customers (registered and guests) become F_CLI rows; linked customers merge both ways.

Keys are ``ps:<id_customer>`` for customers that exist in the shop and ``fs:<CODCLI>`` for FactuSOL customers
not linked to one (those are only looked at, never pushed: new customers flow shop -> FactuSOL).

The baseline of a linked customer holds BOTH sides' last agreed images.  A field moved on one side when it
differs from that side's image, so two sides that legitimately show a field differently (e.g. a name split
into first/last) are "agreed to differ" and nothing flaps.  On the first link (initial sync by NIF, then
e-mail) only blanks are filled; no existing data is overwritten on either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.capture.snapshot import RowHasher
from replicator.factusol.schema import FactusolWidthError, load_schema, validate_row
from replicator.keys import SHOP, canon, factusol_code_key, factusol_row_key, is_factusol_key, shop_id, shop_key
from replicator.model import Address, Customer
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.rules import MappingError, apply_transforms
from replicator.rules.decisions import anonymise
from replicator.rules.merge import MergeResult, merge_field
from replicator.store import Change
from replicator.sync.base import CONFLICT, NOOP, Outcome, SyncContext, SyncError, image, row_key
from replicator.sync.customer_defaults import new_customer_columns
from replicator.sync import generation
from replicator.sync.echo import FACTUSOL, record_factusol_write, shop_marker

ENTITY = "customer"
ADDRESS_ENTITY = "address"  # F_OBR delivery addresses: "CLIOBR:CODOBR" <-> id_address
GUEST_ENTITY = "customer_guest"  # guests sharing one "cliente de contado" code: linked per shop id
FIELDS = (
    "fiscal_name",
    "commercial_name",
    "nif",
    "email",
    "phone",
    "mobile",
    "street",
    "city",
    "postcode",
    "province",
    "country_iso",
)
_UNCHANGED = "\x00unchanged"  # marks "this side did not move" for merge_field
CREATE_CHUNK = 500  # new customers per FactuSOL insert transaction


def normalise_nif(nif: str) -> str:
    value = "".join(ch for ch in (nif or "").upper() if ch.isalnum())
    return value[2:] if value.startswith("ES") and len(value) > 9 else value


def _fields(customer: Customer) -> dict[str, Any]:
    return {name: canon(getattr(customer, name)) for name in FIELDS}


def _fs_columns(ctx: SyncContext, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical -> F_CLI columns through the rule (widths with their fit policy, value maps)."""
    try:
        mapped = apply_transforms(ctx.rules.entity(ENTITY), fields, "factusol", key=key)
    except MappingError as exc:
        raise SyncError(ENTITY, key, exc.reason, exc.field) from None
    return {column.split(".", 1)[1]: value for column, value in mapped.items() if column.startswith("F_CLI.")}


def _ps_columns(ctx: SyncContext, current: Customer, fields: dict[str, Any]) -> tuple[dict, dict]:
    """Canonical -> (customer columns, main-address columns) of the shop."""
    customer: dict[str, Any] = {}
    address: dict[str, Any] = {}
    if "fiscal_name" in fields:
        if current.company:  # a company customer: the fiscal name is the company
            customer["company"] = fields["fiscal_name"]
        else:
            first, _, last = str(fields["fiscal_name"]).partition(" ")
            customer["firstname"], customer["lastname"] = first, last or first
    if "commercial_name" in fields and current.company:
        first, _, last = str(fields["commercial_name"]).partition(" ")
        customer["firstname"], customer["lastname"] = first, last or first
    if "email" in fields:
        customer["email"] = fields["email"]
    for name, column in (
        ("nif", "dni"),
        ("phone", "phone"),
        ("mobile", "phone_mobile"),
        ("street", "address1"),
        ("city", "city"),
        ("postcode", "postcode"),
    ):
        if name in fields:
            address[column] = fields[name]
    if "country_iso" in fields or "province" in fields:
        address.update(
            ps_writer.country_and_state(
                ctx.shop, fields.get("country_iso", current.country_iso), fields.get("province", current.province)
            )
        )
    return customer, address


def _address_columns(ctx: SyncContext, key: str, address_id: int, address: Address) -> dict[str, Any]:
    """A shop delivery address -> F_OBR columns through the address rule; SyncError naming the field if it can't."""
    fields = {
        "name": address.company or address.name,
        "street": address.street,
        "city": address.city,
        "postcode": address.postcode,
        "province": address.province,
        "country_iso": address.country_iso,
        "phone": address.phone or address.mobile,
        "email": address.email,
    }
    try:
        mapped = apply_transforms(
            ctx.rules.entity(ADDRESS_ENTITY), fields, "factusol", key=f"{key} address {address_id}"
        )
    except MappingError as exc:
        raise SyncError(ENTITY, key, f"delivery address {address_id}: {exc.reason}", f"address.{exc.field}") from None
    return {c.split(".", 1)[1]: v for c, v in mapped.items() if c.startswith("F_OBR.")}


def _echo_records(
    table: str, names: list[str], rows: list[list[Any]], keep: set[tuple] | None = None
) -> list[tuple[str, str, str]]:
    """(table, row key, row hash) of ``rows`` of ``table`` read back by `fs_writer.read_values_by_key` (only the
    primary keys in ``keep`` when given), hashed exactly as a capture scan hashes them (`RowHasher` over the
    converted ``SELECT *`` values, equal to `row_hash` of the row image): the ledger entries that make the next
    scan see our writes as echoes."""
    if not rows:
        return []
    hasher = RowHasher(names)
    pk = load_schema()[table].pk
    index = [names.index(c) for c in pk]
    out = []
    for vals in rows:
        key = tuple(vals[i] for i in index)
        if keep is None or key in keep:
            out.append((table, factusol_row_key(dict(zip(pk, key))), hasher(vals)))
    return out


@dataclass
class _NewCustomer:
    """A shop customer about to become an F_CLI row: its validated row and its F_OBR rows (id_address, columns)."""

    key: str
    shop: Customer
    spec: str  # "registered" | "guests": the codes range it takes its code from
    code_range: tuple[int, int]
    row: dict[str, Any]
    addresses: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    address_error: SyncError | None = None  # created anyway, key quarantined naming the address


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
        outcomes: dict[str, Outcome] = {}
        ps_ids = [shop_id(k) for k in keys if k.startswith(SHOP)]
        shop_customers = {c.prestashop_id: c for c in ps_reader.read_customers(ctx.shop, ps_ids)} if ps_ids else {}
        links = {int(ps): int(code) for ps, code in ctx.store.id_map_by_prestashop(ENTITY, ps_ids).items()}
        linked = self._linked_candidates(ctx, [c for i, c in shop_customers.items() if i not in links])
        fs_customers = (
            {c.factusol_code: c for c in fs_reader.read_customers(ctx.factusol, list(links.values()))} if links else {}
        )
        bases = ctx.store.baselines(ENTITY, [shop_key(i) for i in links]) if links else {}  # one read, not one a key
        self._pending: dict[str, dict] | None = {}  # baselines of merged keys: one store transaction at the end
        try:
            self._sync_keys(
                ctx, list(dict.fromkeys(keys)), outcomes, shop_customers, links, linked, fs_customers, bases
            )
        finally:
            pending, self._pending = self._pending, None
            ctx.store.set_baselines(ENTITY, pending)
        return {key: outcomes[key] for key in dict.fromkeys(keys) if key in outcomes}

    def _sync_keys(self, ctx, keys, outcomes, shop_customers, links, linked, fs_customers, bases) -> None:
        """`sync`'s walk over the keys, with what it read for all of them; new customers are created together."""
        to_create: dict[str, Customer] = {}  # created in bulk after every key was linked or set aside
        for key in keys:
            try:
                if is_factusol_key(key):
                    outcomes[key] = Outcome(NOOP, "FactuSOL-only customer: new customers flow from the shop")
                    continue
                ps_id = shop_id(key)
                shop = shop_customers.get(ps_id)
                code = links.get(ps_id)
                if shop is None or shop.deleted:
                    outcomes[key] = self._deleted_in_shop(ctx, key, code)
                elif code is None:
                    outcome = self._link_or_create(ctx, key, shop, linked)
                    if outcome is None:
                        to_create[key] = shop
                    else:
                        outcomes[key] = outcome
                elif code not in fs_customers:
                    outcomes[key] = Outcome(
                        "quarantined", f"customer {key}: linked FactuSOL customer {code} is missing"
                    )
                    ctx.store.quarantine(ENTITY, key, "factusol", f"linked FactuSOL customer {code} no longer exists")
                else:
                    outcomes[key] = self._merge(ctx, key, code, fs_customers[code], shop, bases.get(key))
            except (SyncError, FactusolWidthError) as exc:
                outcomes[key] = _quarantined(ctx, key, exc)
        if to_create:
            outcomes.update(self._create_many(ctx, to_create))

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

    def _create_many(self, ctx: SyncContext, customers: dict[str, Customer]) -> dict[str, Outcome]:
        """New shop customers -> F_CLI rows (+ F_OBR delivery addresses), CREATE_CHUNK per FactuSOL transaction.

        Each customer is mapped and validated on its own first: a bad one is quarantined with its reason and the
        others go on.  A delivery address that can't be mapped does not hold the customer back (as before): the
        customer is created without F_OBR rows and its key quarantined naming the address; once fixed, the retry
        (a merge of the linked customer) adds them.  Per chunk: one insert transaction (MAX read once per code
        range, consecutive codes, retried on a collision), one read-back of the written rows for their echo
        hashes, then the ledger, links and baselines in one store transaction each.
        """
        rules = ctx.rules.entity(ENTITY)
        outcomes: dict[str, Outcome] = {}
        if rules.create not in ("to_factusol", "both"):
            return {
                key: Outcome(NOOP, "customer creation in FactuSOL is off (customer rule: create)") for key in customers
            }
        include_guests = rules.filters.get("include_guests", True)
        several = [
            c.prestashop_id for c in customers.values() if len(c.addresses) >= 2 and (include_guests or not c.is_guest)
        ]
        address_ids = ps_reader.address_ids(ctx.shop, several)
        ready: list[_NewCustomer] = []
        for key, shop in customers.items():
            if shop.is_guest and not include_guests:
                outcomes[key] = Outcome(NOOP, "guests are not replicated (customer rule: filters.include_guests)")
                continue
            try:
                ready.append(self._prepare_new(ctx, key, shop, address_ids.get(shop.prestashop_id, [])))
            except (SyncError, FactusolWidthError) as exc:
                outcomes[key] = _quarantined(ctx, key, exc)
        for i in range(0, len(ready), CREATE_CHUNK):
            outcomes.update(self._insert_chunk(ctx, ready[i : i + CREATE_CHUNK]))
        return outcomes

    def _prepare_new(self, ctx: SyncContext, key: str, shop: Customer, address_ids: list[int]) -> _NewCustomer:
        """The F_CLI row (validated) and F_OBR rows of a new customer; SyncError/FactusolWidthError when it can't be."""
        spec_name = "guests" if shop.is_guest else "registered"
        spec = ctx.rules.entity(ENTITY).options["codes"][spec_name]
        row = {"ESTCLI": 1, **new_customer_columns(ctx, key, shop), **_fs_columns(ctx, key, _fields(shop))}
        validate_row("F_CLI", row, key="(new)")
        new = _NewCustomer(key, shop, spec_name, (int(spec["from"]), int(spec["to"])), row)
        try:
            for address_id, address in list(zip(address_ids, shop.addresses))[1:]:
                columns = _address_columns(ctx, key, address_id, address)
                validate_row("F_OBR", columns, key=("(new)", "(new)"))
                new.addresses.append((address_id, columns))
        except SyncError as exc:
            new.addresses, new.address_error = [], exc
        except FactusolWidthError as exc:
            new.addresses, new.address_error = [], SyncError(ENTITY, key, str(exc), f"address.{exc.column}")
        return new

    def _insert_chunk(self, ctx: SyncContext, chunk: list[_NewCustomer]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        results = fs_writer.insert_customers(
            ctx.factusol, [(n.code_range, n.row, [c for _, c in n.addresses]) for n in chunk]
        )
        made: list[tuple[_NewCustomer, int, list[int]]] = []
        for new, result in zip(chunk, results):
            if result is None:
                lo, hi = new.code_range
                exc = SyncError(
                    ENTITY,
                    new.key,
                    f"F_CLI.CODCLI: no free code in {lo}..{hi}: widen codes.{new.spec}",
                    "factusol_code",
                )
                ctx.store.quarantine(exc.entity, exc.key, "prestashop", exc.reason, exc.field)
                outcomes[new.key] = Outcome("quarantined", str(exc))
            else:
                made.append((new, *result))
        if not made:
            return outcomes
        codes = [code for _, code, _ in made]
        # The written rows read back once, exactly as the capture reads them (as record_factusol_write does): their
        # hashes are the echo records, and they are the new customers' FactuSOL side for the baselines.  The codes
        # are consecutive, so each table is one BETWEEN read per code range.
        cli_names, cli_rows = fs_writer.read_values_by_key(ctx.factusol, "F_CLI", "CODCLI", codes)
        obr_names, obr_rows = fs_writer.read_values_by_key(ctx.factusol, "F_OBR", "CLIOBR", codes)
        written_obr = {(code, n) for _, code, numbers in made for n in numbers}
        ledger = _echo_records("F_CLI", cli_names, cli_rows)
        if written_obr:
            ledger += _echo_records("F_OBR", obr_names, obr_rows, keep=written_obr)
        generation.mark_factusol_write(ctx)  # the shop's ledger knows this store applied that far
        ctx.store.record_applied_many(FACTUSOL, ENTITY, ledger, "write")
        ctx.store.link_many(ENTITY, [(str(code), str(new.shop.prestashop_id)) for new, code, _ in made])
        ctx.cache.get("customer_codes", set()).update(codes)
        addresses = sorted((dict(zip(obr_names, r)) for r in obr_rows), key=lambda r: (r["CLIOBR"], r["CODOBR"]))
        created = {
            c.factusol_code: c
            for c in fs_reader.customers_from_rows((dict(zip(cli_names, r)) for r in cli_rows), addresses)
        }
        ctx.store.set_baselines(
            ENTITY,
            {new.key: {"factusol": _fields(created[code]), "prestashop": _fields(new.shop)} for new, code, _ in made},
        )
        ctx.store.link_many(
            ADDRESS_ENTITY,
            [
                (f"{code}:{n}", str(address_id))
                for new, code, numbers in made
                for (address_id, _), n in zip(new.addresses, numbers)
            ],
        )
        ctx.store.set_baselines(
            ADDRESS_ENTITY,
            {
                f"{code}:{n}": {c: canon(v) for c, v in columns.items()}
                for new, code, numbers in made
                for (_, columns), n in zip(new.addresses, numbers)
            },
        )
        for new, code, numbers in made:
            kind = "guest" if new.shop.is_guest else "customer"
            notes = [
                f"delivery address {address_id} -> F_OBR {code}/{n}"
                for (address_id, _), n in zip(new.addresses, numbers)
            ]
            detail = f"new shop {kind} {new.shop.email or new.shop.prestashop_id} -> FactuSOL customer {code}" + (
                f"; {'; '.join(notes)}" if notes else ""
            )
            if new.address_error is not None:
                exc = new.address_error
                ctx.store.quarantine(exc.entity, exc.key, "prestashop", exc.reason, exc.field)
                outcomes[new.key] = Outcome("quarantined", f"{detail}; {exc}")
            else:
                outcomes[new.key] = Outcome("applied", detail)
        return outcomes

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
        self._write(ctx, key, code, shop, to_fs, to_ps)
        fs_after = fs_reader.read_customers(ctx.factusol, [code])[0] if to_fs else fs
        ps_after = ps_reader.read_customers(ctx.shop, [shop.prestashop_id])[0] if to_ps else shop
        parked = {c.field for c in result.conflicts}
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
            columns = _address_columns(ctx, key, address_id, address)
            link = ctx.store.map_id(ADDRESS_ENTITY, prestashop_id=str(address_id))
            number = int(link.factusol_key.split(":")[1]) if link and link.factusol_key.startswith(f"{code}:") else None
            if number is None:
                number = fs_reader.delivery_address_code(
                    ctx.factusol, code, columns.get("DIROBR", ""), columns.get("CPOOBR", "")
                )
                if number is None:
                    number = fs_writer.insert_delivery_address(ctx.factusol, code, columns)
                    notes.append(f"delivery address {address_id} -> F_OBR {code}/{number}")
                else:
                    notes.append(f"delivery address {address_id} linked to F_OBR {code}/{number}")
                ctx.store.link(ADDRESS_ENTITY, f"{code}:{number}", str(address_id))
            else:
                last = ctx.store.baseline(ADDRESS_ENTITY, f"{code}:{number}") or {}
                changed = {c: v for c, v in columns.items() if last.get(c) != canon(v)}
                if not changed:
                    continue
                fs_writer.update_fields(ctx.factusol, "F_OBR", {"CLIOBR": code, "CODOBR": number}, changed)
                notes.append(f"F_OBR {code}/{number}: {', '.join(sorted(changed))}")
            record_factusol_write(ctx, ENTITY, "F_OBR", {"CLIOBR": code, "CODOBR": number})
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
        if action == "block":
            fs_writer.update_customer_fields(ctx.factusol, code, {"ESTCLI": 3, "NVCCLI": 1})
        elif action == "anonymise":
            fields = anonymise(rules, {name: "" for name in FIELDS})
            columns = _fs_columns(ctx, key, {k: v for k, v in fields.items() if v})
            fs_writer.update_customer_fields(ctx.factusol, code, columns)
        if action != "keep":
            record_factusol_write(ctx, ENTITY, "F_CLI", {"CODCLI": code})
        ctx.store.set_baseline(ENTITY, key, {**base, "deleted_action": action})
        return Outcome("applied", f"deleted in the shop: FactuSOL customer {code} -> {action} (customer rule gdpr)")

    # -- writes -----------------------------------------------------------------------------------------
    def _write(self, ctx: SyncContext, key: str, code: int, shop: Customer, to_fs: dict, to_ps: dict) -> None:
        if to_fs:
            columns = _fs_columns(ctx, key, to_fs)
            if columns:
                fs_writer.update_customer_fields(ctx.factusol, code, columns)
                record_factusol_write(ctx, ENTITY, "F_CLI", {"CODCLI": code})
        if to_ps:
            customer, address = _ps_columns(ctx, shop, to_ps)
            if customer or address:
                ps_writer.update_customer(
                    ctx.shop, shop.prestashop_id, customer, address, extra=shop_marker(ctx, f"customer {key}")
                )

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
        if getattr(self, "_pending", None) is not None:  # inside `sync`: written with the batch's others
            self._pending[key] = {"factusol": fs_image, "prestashop": ps_image}
        else:
            ctx.store.set_baseline(ENTITY, key, {"factusol": fs_image, "prestashop": ps_image})


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


def _quarantined(ctx: SyncContext, key: str, exc: SyncError | FactusolWidthError) -> Outcome:
    """Park a shop customer that cannot be mapped: the quarantine names entity, key and field."""
    if isinstance(exc, FactusolWidthError):
        ctx.store.quarantine(ENTITY, key, "prestashop", str(exc), exc.column)
    else:
        ctx.store.quarantine(exc.entity, exc.key, "prestashop", exc.reason, exc.field)
    return Outcome("quarantined", str(exc))
