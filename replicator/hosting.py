"""The hosted-shop commands and start-up steps: `replicator shop-sql`, `replicator ssh trust`, and, when the
service starts, the SSH tunnel and the grants check (one log line per missing thing)."""

from __future__ import annotations

import logging
import sys
import time

from replicator.config import load_config, redact
from replicator.urls import split_url

log = logging.getLogger("replicator")


def cmd_shop_sql(args) -> int:
    from replicator.prestashop.grants import shop_sql

    database, prefix, user = args.database, args.prefix, args.user
    if args.config:
        config = load_config(args.config, check_files=False)
        parsed = split_url(config.prestashop.url)  # a password holding / # ? @ stays out of the host
        database = database or parsed.database
        prefix = prefix if prefix is not None else config.prestashop.prefix
        user = user or parsed.username or "replicator"
    if not database:
        print("error: give --database NAME (or --config FILE to read it from prestashop.url)", file=sys.stderr)
        return 2
    print(shop_sql(database, "ps_" if prefix is None else prefix, args.mode, user or "replicator", args.host), end="")
    return 0


def cmd_ssh_trust(args) -> int:
    from replicator.prestashop.tunnel import open_client

    config = load_config(args.config, check_files=False)
    ssh = config.prestashop.ssh
    if ssh is None:
        print("error: replicator.yaml has no prestashop.ssh section: nothing to trust", file=sys.stderr)
        return 2
    import paramiko

    # Fetch the key first and show it; write it only once the person said yes.
    transport = paramiko.Transport((ssh.host, ssh.port))
    try:
        transport.start_client(timeout=ssh.timeout)
        key = transport.get_remote_server_key()
    except (OSError, paramiko.SSHException) as exc:
        print(
            f"error: cannot reach the SSH host {ssh.host}:{ssh.port} ({exc}): check the host and port", file=sys.stderr
        )
        return 1
    finally:
        transport.close()
    print(f"SSH host {ssh.host}:{ssh.port} presents {key.get_name()} {key.fingerprint}")
    if not args.yes:
        answer = input(f"Trust it and write it to {ssh.known_hosts}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("not trusted; nothing written")
            return 1
    open_client(ssh, accept_new=True).close()
    print(f"trusted: {ssh.known_hosts}")
    return 0


def add_commands(sub, command) -> None:
    """Register `shop-sql` and `ssh trust` on the `replicator` parser's subcommands, through the CLI's one
    sub-command helper (`replicator.cli.common.command`)."""
    p = command(
        sub,
        "shop-sql",
        cmd_shop_sql,
        "print the SQL an admin runs once: ledger table, user, grants for the mode",
        example_lines=(
            "replicator shop-sql --config /etc/replicator/replicator.yaml",
            "replicator shop-sql --mode binlog --database prestashop --user replicator --host 10.0.0.5",
        ),
    )
    p.add_argument(
        "--mode",
        choices=("poll", "binlog"),
        default="poll",
        help="the capture mode the grants are for: poll (default) or binlog",
    )
    p.add_argument("--config", "-c", help="read the database, prefix and user from this replicator.yaml")
    p.add_argument("--database", help="the shop's database name")
    p.add_argument("--prefix", help="table prefix (default ps_)")
    p.add_argument("--user", help="the runtime user to create (default: the URL's user, else replicator)")
    p.add_argument("--host", default="%", help="where the user connects from (default %%: anywhere)")
    p = sub.add_parser("ssh", help="SSH tunnel tools")
    ssh_sub = p.add_subparsers(dest="ssh_command", required=True, metavar="COMMAND", parser_class=type(p))
    t = command(
        ssh_sub,
        "trust",
        cmd_ssh_trust,
        "show the SSH host's key and write it to known_hosts once you accept it",
        config=True,
        example_lines=("replicator ssh trust --config /etc/replicator/replicator.yaml",),
    )
    t.add_argument("--yes", action="store_true", help="accept without asking (check the fingerprint first!)")


def prepare_shop(config, retry: bool = False, stop=None) -> None:
    """Before the service touches the shop: open the SSH tunnel (when configured), then check the grants of the
    capture mode, one log line per missing thing (the service still starts: a grant given later is used).

    A tunnel that can't be opened raises TunnelError (one sentence), or with `retry` (the service) is said and
    tried again with backoff until it opens or `stop` (a threading.Event) is set: the known_hosts file and the key
    are read again each time, so fixing them is enough."""
    from replicator.prestashop.tunnel import TunnelError, route_through_ssh

    delay = 2.0
    while True:
        try:
            route_through_ssh(config)
            break
        except TunnelError as exc:
            if not retry or (stop is not None and stop.is_set()):
                raise
            log.error("%s; retrying in %.0f s", exc.sentence, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
            delay = min(delay * 2, 60.0)
    if not config.prestashop.url:
        return
    for problem in grant_problems(config):
        log.error("shop grants: %s", redact(problem))


def grant_problems(config) -> list[str]:
    """What the configured shop user lacks for the configured capture mode (`auto` is checked as poll, its
    minimum), one sentence each; [] when nothing.  For `replicator doctor`: opens the SSH tunnel first when
    `prestashop.ssh` is set, and a failure to connect is itself the one problem returned."""
    from replicator.prestashop.shop_errors import explain
    from replicator.prestashop.tunnel import route_through_ssh

    try:
        from replicator.prestashop.grants import check_shop

        route_through_ssh(config)
        mode = "binlog" if config.prestashop.capture == "binlog" else "poll"
        return check_shop(config.prestashop.url, config.prestashop.prefix, mode)
    except Exception as exc:  # the check informs; say why it could not run
        return [f"could not check the shop user's grants: {explain(exc)}"]


def sentence_of(exc: BaseException) -> str | None:
    """The one-sentence message our own errors carry (the tunnel's), else None."""
    value = getattr(exc, "sentence", None)
    return redact(value) if value else None


__all__ = ["add_commands", "cmd_shop_sql", "cmd_ssh_trust", "grant_problems", "prepare_shop", "sentence_of"]
