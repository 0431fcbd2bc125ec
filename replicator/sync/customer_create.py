"""New shop customers become F_CLI rows (with their F_OBR delivery addresses), many at a time.

Each customer is mapped and validated on its own first, so a bad one is quarantined alone; then per chunk one
FactuSOL insert transaction with consecutive codes, one read-back of the written rows (their echo records and the
FactuSOL side of the baselines), and the ledger, links and baselines in one store transaction each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replicator.capture.snapshot import RowHasher
from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.factusol.schema import FactusolWidthError, load_schema, validate_row
from replicator.keys import canon, factusol_row_key
from replicator.model import Customer
from replicator.prestashop import reader as ps_reader
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError
from replicator.sync.customer_defaults import new_customer_columns
from replicator.sync.customer_fields import ADDRESS_ENTITY, ENTITY, address_columns, fields_of, fs_columns, quarantined
from replicator.sync import generation
from replicator.sync.echo import FACTUSOL

CREATE_CHUNK = 500  # new customers per FactuSOL insert transaction


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


def create_customers(ctx: SyncContext, customers: dict[str, Customer]) -> dict[str, Outcome]:
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
        return {key: Outcome(NOOP, "customer creation in FactuSOL is off (customer rule: create)") for key in customers}
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
            ready.append(_prepare_new(ctx, key, shop, address_ids.get(shop.prestashop_id, [])))
        except (SyncError, FactusolWidthError) as exc:
            outcomes[key] = quarantined(ctx, key, exc)
    for i in range(0, len(ready), CREATE_CHUNK):
        outcomes.update(_insert_chunk(ctx, ready[i : i + CREATE_CHUNK]))
    return outcomes


def _prepare_new(ctx: SyncContext, key: str, shop: Customer, address_ids: list[int]) -> _NewCustomer:
    """The F_CLI row (validated) and F_OBR rows of a new customer; SyncError/FactusolWidthError when it can't be."""
    spec_name = "guests" if shop.is_guest else "registered"
    spec = ctx.rules.entity(ENTITY).options["codes"][spec_name]
    row = {"ESTCLI": 1, **new_customer_columns(ctx, key, shop), **fs_columns(ctx, key, fields_of(shop))}
    validate_row("F_CLI", row, key="(new)")
    new = _NewCustomer(key, shop, spec_name, (int(spec["from"]), int(spec["to"])), row)
    try:
        for address_id, address in list(zip(address_ids, shop.addresses))[1:]:
            columns = address_columns(ctx, key, address_id, address)
            validate_row("F_OBR", columns, key=("(new)", "(new)"))
            new.addresses.append((address_id, columns))
    except SyncError as exc:
        new.addresses, new.address_error = [], exc
    except FactusolWidthError as exc:
        new.addresses, new.address_error = [], SyncError(ENTITY, key, str(exc), f"address.{exc.column}")
    return new


def _insert_chunk(ctx: SyncContext, chunk: list[_NewCustomer]) -> dict[str, Outcome]:
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
    # The written rows read back once, exactly as the capture reads them (as factusol_writes does): their
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
        {new.key: {"factusol": fields_of(created[code]), "prestashop": fields_of(new.shop)} for new, code, _ in made},
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
            f"delivery address {address_id} -> F_OBR {code}/{n}" for (address_id, _), n in zip(new.addresses, numbers)
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
