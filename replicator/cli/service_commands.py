"""Sub-commands that run the replicator or steer the running service: `run`, `resync`, `reconcile`,
`accept-baseline`, `pause` and `resume`."""

from __future__ import annotations

from replicator.cli_output import EXIT_ERROR, EXIT_OK, UserError, print_json
from replicator.config import load_config
from replicator.logsetup import setup_logging

from .common import open_store, store_config


def cmd_run(args) -> int:
    from replicator.hosting import prepare_shop
    from replicator.instance_lock import ensure_free

    config = load_config(args.config)
    setup_logging(config.log_level, config.log_file)
    ensure_free(open_store(config))  # a second replicator is refused before it opens a tunnel or a connection
    prepare_shop(config, retry=not args.once)  # the SSH tunnel (prestashop.ssh, retried by the service), grants
    if args.once:
        from replicator.daemon import run

        return run(config, once=True)
    from replicator.service.runner import ServiceRunner

    return ServiceRunner(config).run_in_foreground()  # SIGTERM / Ctrl-C: a clean drain


def cmd_resync(args) -> int:
    from replicator.runtime import open_runtime
    from replicator.resync import ENTITIES, render, resync

    config = load_config(args.config)
    setup_logging("WARNING" if args.json else config.log_level, config.log_file)
    entities = [args.entity] if args.entity else list(ENTITIES)
    from replicator.hosting import prepare_shop

    prepare_shop(config)  # the SSH tunnel when the shop is reached through one
    runtime = open_runtime(config)
    try:
        reports = resync(runtime.engine, entities, args.keys or None, dry_run=args.dry_run)
    finally:
        runtime.close()
    if args.json:
        print_json({"dry_run": args.dry_run, "entities": {e: r.as_dict() for e, r in reports.items()}})
    else:
        for line in render(reports, args.dry_run):
            print(line)
    failed = any(r.outcomes.get("quarantined") for r in reports.values())
    return EXIT_ERROR if failed else EXIT_OK


def cmd_pause(args) -> int:
    """Give FactuSOL its file: ask the service to pause and wait until it says it has let go of the file."""
    import time

    from replicator.service.pause import request_pause, service_report

    config = store_config(args)
    store = open_store(config)
    request_pause(store, args.reason)
    fresh = max(30.0, 5 * config.apply_interval_seconds)
    if service_report(store, fresh) is None:
        print("pause recorded; no service is running now: one started later stays paused until `replicator resume`")
        return EXIT_OK
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        report = store.checkpoint("service") or {}
        if report.get("state") in ("paused", "stopped") and not report.get("factusol_open"):
            print(
                "paused: the service has closed the FactuSOL file; FactuSOL can compact/repair or restore it "
                "now. Run `replicator resume` when it is done"
            )
            return EXIT_OK
        time.sleep(0.5)
    raise UserError(
        f"the service has not confirmed the pause within {args.wait:.0f} s (it may be finishing a long "
        "apply): check `replicator status` before FactuSOL's maintenance",
        EXIT_ERROR,
    )


def cmd_resume(args) -> int:
    from replicator.service.pause import request_resume

    standing = request_resume(open_store(store_config(args)))
    print(
        "resumed: the service scans the whole FactuSOL file, then applies what waited"
        if standing
        else "the replicator was not paused"
    )
    return EXIT_OK


def cmd_reconcile(args) -> int:
    """Compare both sides from their current data; --repair applies the rules' verdict through the apply path."""
    from replicator.runtime import open_runtime
    from replicator.sync.reconcile import ENTITIES, reconcile, repair_until_settled

    config = load_config(args.config)
    setup_logging(config.log_level, config.log_file)
    entities = [args.entity] if args.entity else list(ENTITIES)
    runtime = open_runtime(config)
    try:
        report = reconcile(runtime.ctx, entities)
        repaired = {}
        if args.repair and not args.dry_run and report.differences:
            repaired, after = repair_until_settled(runtime.ctx, runtime.engine, report, entities)
        else:
            after = report
    finally:
        runtime.close()
    if args.json:
        print_json(
            {
                **report.as_dict(),
                "repaired": repaired,
                "remaining": after.as_dict()["total"],
                "dry_run": bool(args.dry_run),
            }
        )
    else:
        checked = ", ".join(f"{n} {e}s" for e, n in report.checked.items())
        print(f"checked {checked}: {len(report.differences)} difference(s)")
        for d in report.differences:
            print(f"  {d}")
        if args.repair and args.dry_run and report.differences:
            keys = sum(len(report.keys(e)) for e in entities)
            print(f"--dry-run: {keys} key(s) would be synced again; nothing written")
        for entity, outcomes in repaired.items():
            for key, outcome in outcomes.items():
                print(f"  repaired {entity} {key}: {outcome}")
        if repaired:
            print(f"after the repair: {len(after.differences)} difference(s)")
            for d in after.differences:
                print(f"  {d}")
    return EXIT_OK if not after.differences else EXIT_ERROR


def cmd_accept_baseline(args) -> int:
    """Go on after a stop for a restored FactuSOL file or a replaced store: the data as it is now is the baseline."""
    from replicator.halt import accept

    config = load_config(args.config)
    stopped = accept(open_store(config))
    if not stopped:
        print("applying was not stopped; nothing to accept")
        return EXIT_OK
    print(f"accepted: {stopped.get('reason')}")
    if stopped.get("cause") == "factusol_restored":
        print("the next FactuSOL scan takes the file as it is now as the new baseline (no change is sent)")
    print("applying goes on; `replicator reconcile --repair` brings the sides in step by the rules")
    return EXIT_OK
