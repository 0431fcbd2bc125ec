"""Sub-commands that read or answer the state store, no shop password needed: `status`, `log`, `conflicts`,
`resolve`, `quarantine`, `link` and the `tui`."""

from __future__ import annotations

import json
from typing import Any

from replicator.cli_output import EXIT_OK, EXIT_USAGE, UserError, jsonable, print_json
from replicator.config import redact

from .common import CHANGE_STATUSES, open_store, print_rows, store_config


def cmd_tui(args) -> int:
    from tui.app import run_tui

    store_config(args)  # fail early with a clear message
    return run_tui(args.config, readonly=args.readonly)


def cmd_status(args) -> int:
    from replicator.service_state import service_state
    from replicator.sync.shop_state import mode_line

    config = store_config(args)
    if getattr(args, "all", False):
        return _status_all(config, args.json)
    store = open_store(config)
    summary = store.status_summary()
    service = service_state(store)
    summary["checkpoints"] = {
        name: value for name, value in summary["checkpoints"].items() if name not in ("service", "service.lock")
    }  # both are in "service", in words
    summary["service"] = service.as_dict()
    summary["config"] = config.describe()
    summary["order_states"] = mode_line(config)
    if args.json:
        print_json(summary)
        return EXIT_OK
    changes = summary["changes"]
    print(f"config:      {config.path}")
    print(f"service:     {service.sentence()}")
    for watcher in service.watchers:
        print(f"  {watcher.side:<11}{redact(watcher.describe())}")
    if service.apply_error:
        print(f"  last apply error: {redact(service.apply_error)}")
    print("changes:     " + (", ".join(f"{k} {changes.get(k, 0)}" for k in CHANGE_STATUSES) if changes else "none"))
    print(f"open:        {summary['open_conflicts']} conflict(s), {summary['open_quarantine']} quarantined")
    print(summary["order_states"])
    _print_lock(store)
    points = _checkpoint_lines(store)
    if points:
        print("checkpoints:")
        for line in points:
            print(f"  {redact(line)}")
    return EXIT_OK


def _status_all(config, as_json: bool) -> int:
    """`status --all`: each instance (store_namespace) keeping its state in the same PostgreSQL store."""
    from replicator.store import Store

    names = Store.namespaces(config.store)
    stores = {name: Store(config.store, name) for name in names}
    summaries = {name: store.status_summary() for name, store in stores.items()}
    if as_json:
        print_json(summaries)
        return EXIT_OK
    if not names:
        print(f"no instances in {redact(config.store)} (store_namespace is set per instance in replicator.yaml)")
    for name, summary in summaries.items():
        changes = ", ".join(f"{k} {v}" for k, v in sorted(summary["changes"].items())) or "no changes"
        print(
            f"{name}: {changes}; open conflicts {summary['open_conflicts']}; quarantined {summary['open_quarantine']}"
        )
        _print_lock(stores[name])
    return EXIT_OK


def _checkpoint_lines(store) -> list[str]:
    """Each capture checkpoint as 'name: key value, ... (updated ...)', readable rather than a JSON blob."""
    from replicator.cli_output import iso_time
    from replicator.service_state import SERVICE_CHECKPOINT

    lines = []
    for name, (value, updated_at) in sorted(store.checkpoint_times().items()):
        if name in (SERVICE_CHECKPOINT, "service.lock", "pause"):
            continue  # all three are told on the `service:` line
        if isinstance(value, dict):
            text = ", ".join(f"{k} {_short(v)}" for k, v in value.items() if not isinstance(v, (dict, list)))
            nested = [k for k, v in value.items() if isinstance(v, (dict, list))]
            if nested:
                text += (", " if text else "") + "+ " + ", ".join(nested)
        else:
            text = _short(value)
        lines.append(f"{name}: {text} (updated {iso_time(updated_at)})")
    return lines


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_lock(store) -> None:
    """`FactuSOL file: locked since ...` while the service finds the file held by another program."""
    from replicator.halt import halted
    from replicator.service_state import SERVICE_CHECKPOINT

    stopped = halted(store)
    if stopped:
        print(f"applying is STOPPED since {stopped.get('since', '?').replace('T', ' ')}: {stopped.get('reason')}")
        print(f"  run {stopped.get('command')}")
    factusol = ((store.checkpoint(SERVICE_CHECKPOINT) or {}).get("capture") or {}).get("factusol") or {}
    if factusol.get("locked_since"):
        since = str(factusol["locked_since"]).replace("T", " ")
        print(
            f"FactuSOL file: locked since {since} ({redact(factusol.get('last_error') or 'held by another program')})"
        )


def cmd_log(args) -> int:
    config = store_config(args)
    rows = open_store(config).changes(status=args.status, entity=args.entity, side=args.side)
    rows = rows[-args.limit :] if args.limit else rows
    return print_rows(
        args,
        rows,
        lambda row: (
            f"{row.id:>6} {row.captured_at:%Y-%m-%d %H:%M:%S} {row.side:<10} {row.entity:<9} "
            f"{row.source_table:<18} {row.op:<6} {row.row_key:<24} {row.status:<11} {row.detail}"
        ),
        "no changes" + (" match" if args.status or args.entity or args.side else " yet"),
    )


def cmd_conflicts(args) -> int:
    config = store_config(args)
    rows = open_store(config).conflicts(status=None if args.all else "open")

    def line(row) -> str:
        values = jsonable(row)
        return (
            f"#{row.id} {row.entity} {row.key} field {row.field}: base={json.dumps(values['base'])} "
            f"factusol={json.dumps(values['factusol'])} prestashop={json.dumps(values['prestashop'])} "
            f"[{row.status}]"
        )

    return print_rows(args, rows, line, "no conflicts" if args.all else "no open conflicts")


def cmd_resolve(args) -> int:
    config = store_config(args)
    store = open_store(config)
    conflict = store.conflict(args.id)
    if conflict is None:
        raise UserError(f"there is no conflict #{args.id}; `replicator conflicts` lists the open ones")
    if conflict.status != "open":
        raise UserError(
            f"conflict #{args.id} is already {conflict.status}"
            + (f" (with {conflict.resolved_by})" if conflict.resolved_by else "")
        )
    if args.field and args.field != conflict.field:
        raise UserError(f"conflict #{args.id} is about field {conflict.field}, not {args.field}; nothing was changed")
    if args.value is not None:
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            value = args.value
        resolved = store.resolve_conflict(args.id, "custom", value)
    elif args.take:
        resolved = store.resolve_conflict(args.id, args.take)
    else:
        raise UserError("say which value wins: --take factusol|prestashop|base or --value VALUE", EXIT_USAGE)
    shown = jsonable(resolved)["resolution"]
    print(
        f"conflict #{resolved.id} ({resolved.entity} {resolved.key} {resolved.field}) resolved with "
        f"{resolved.resolved_by}: {redact(json.dumps(shown, ensure_ascii=False))}; it is applied on the next cycle"
    )
    return EXIT_OK


def cmd_quarantine(args) -> int:
    config = store_config(args)
    store = open_store(config)
    if args.skip is not None:
        row = store.quarantine_row(args.skip)
        if row is None:
            raise UserError(f"there is no quarantined change #{args.skip}; `replicator quarantine` lists them")
        if row.status != "open":
            raise UserError(f"quarantined change #{args.skip} is already {row.status}; nothing to do")
        store.skip_quarantine(args.skip)
        print(f"quarantined change #{args.skip} ({row.entity} {row.key}) skipped: it will not be applied")
        return EXIT_OK
    return print_rows(
        args,
        store.quarantined(),
        lambda row: f"#{row.id} {row.entity} {row.key} from {row.side}: {row.reason} (tries {row.attempts})",
        "nothing quarantined",
    )


def cmd_link(args) -> int:
    """A person's answer to an ambiguous match: this FactuSOL record is that shop record."""
    config = store_config(args)
    store = open_store(config)
    for side, value in (("factusol", args.factusol), ("prestashop", args.prestashop)):
        existing = store.map_id(args.entity, **{"factusol_key" if side == "factusol" else "prestashop_id": value})
        if existing:
            raise UserError(
                f"{args.entity} {side} {value} is already linked (FactuSOL {existing.factusol_key} <-> "
                f"shop {existing.prestashop_id})"
            )
    store.link(args.entity, args.factusol, args.prestashop)
    print(
        f"linked {args.entity}: FactuSOL {args.factusol} <-> shop {args.prestashop}; quarantined changes of it "
        "are retried on the next cycle (only blank fields are filled on a first link)"
    )
    return EXIT_OK
