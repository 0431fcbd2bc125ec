"""`replicator doctor [--json]`: check a real installation end to end before anything is written.

In order: the config loads; the ODBC driver is there with this Python's bitness; the FactuSOL file opens; the
tables and columns the rules use exist with FactuSOL's types and widths; the folder takes the lock file; a write
in a rolled-back transaction goes through; the shop database answers with the privileges the replicator needs;
and which capture mode the service will use.  Every failure is one sentence naming the file (or server) and what
to do.  A failed step that later steps depend on ends the FactuSOL (or shop) part there.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from replicator.config import Config, ConfigError, load_config, redact
from replicator.urls import split_url
from replicator.factusol.checks import FAIL, OK, WARN, Finding, summarize

TAGS = {OK: "[ ok ]", WARN: "[warn]", FAIL: "[FAIL]"}


def _factusol_findings(config: Config) -> list[Finding]:
    from replicator.factusol import checks
    from replicator.factusol.connection import database_path, open_factusol
    from replicator.factusol.years import configured_file, connection_string

    try:
        path = configured_file(config.factusol)
    except FileNotFoundError as exc:
        return [Finding("FactuSOL file", FAIL, f"{exc}: check factusol.data_dir and factusol.company in {config.path}")]
    conn_str = connection_string(config.factusol, path)
    file = database_path(conn_str) or (str(path) if path else "")
    findings = [checks.driver_finding(conn_str)]
    if findings[-1].status == FAIL:
        return findings
    if file and not _exists(file):
        findings.append(Finding("FactuSOL file", FAIL, checks.explain_open_error(FileNotFoundError(file), file)))
        return findings
    try:
        conn = open_factusol(conn_str, retries=2, backoff=0.5)
    except Exception as exc:
        findings.append(Finding("FactuSOL file", FAIL, checks.explain_open_error(exc, file)))
        return findings
    try:
        findings.append(Finding("FactuSOL file", OK, f"{file} opens", {"file": file}))
        from replicator.rules import load_rules

        rules = load_rules(config.rules_dir)
        findings.append(checks.schema_finding(conn, checks.used_columns(rules)))
        if file:
            findings.append(checks.folder_finding(file))
        findings.append(checks.rolled_back_write_finding(conn))
    finally:
        conn.close()
    return findings


def _exists(file: str) -> bool:
    from pathlib import Path

    return Path(file).exists()


def _shop_findings(config: Config) -> list[Finding]:
    from replicator.capture.service import choose_prestashop_mode
    from replicator.hosting import grant_problems
    from replicator.prestashop.checks import missing_tables, server_version
    from replicator.prestashop.connection import ShopConnectionError, connect
    from replicator.prestashop.tunnel import TunnelError, route_through_ssh

    ps = config.prestashop
    database = split_url(ps.url).database
    where = redact(_where(ps.url))
    try:
        if route_through_ssh(config):  # prestashop.ssh: everything below goes through the tunnel
            where += f" through SSH {ps.ssh.host}"
        conn = connect(ps.url)
    except TunnelError as exc:
        return [Finding("shop database", FAIL, redact(exc.sentence))]
    except ShopConnectionError as exc:
        return [
            Finding(
                "shop database",
                FAIL,
                f"{redact(exc)}: check prestashop.url in {config.path}, the password "
                "variable and that this PC may reach the server",
            )
        ]
    try:
        findings = [Finding("shop database", OK, f"{where} answers (server {server_version(conn)})")]
        tables = missing_tables(conn, database, ps.prefix)
        findings.append(
            Finding(
                "shop tables",
                FAIL,
                f"missing in {database}: {', '.join(tables)}: check "
                f"prestashop.prefix ({ps.prefix!r}) and the database name",
            )
            if tables
            else Finding("shop tables", OK, f"the PrestaShop tables with prefix {ps.prefix!r} are there")
        )
    finally:
        conn.close()
    problems = grant_problems(config)  # probed by the server itself, for the configured capture mode
    findings.append(
        Finding("shop privileges", FAIL, "; ".join(redact(p) for p in problems), {"problems": problems})
        if problems
        else Finding(
            "shop privileges",
            OK,
            "the shop user has what the capture mode needs (SELECT, INSERT, UPDATE, DELETE; the ledger table is there)",
        )
    )
    mode, why = choose_prestashop_mode(config)
    findings.append(Finding("capture mode", OK, f"{mode}: {redact(why)}", {"mode": mode}))
    return findings


def _webservice_findings(config: Config) -> list[Finding]:
    """How order states will reach the shop, said plainly; with a webservice, whether it takes the key."""
    from replicator.prestashop.webservice import WebserviceClient, WebserviceError
    from replicator.sync.shop_state import mode_line

    ws = config.prestashop.webservice
    if ws is None:
        return [Finding("order states", OK, mode_line(config))]
    try:
        # GET of an order: 200, or 404 when there is no order 1; either way the shop took the key (401 otherwise)
        WebserviceClient(ws.url, ws.key, timeout=10).request("GET", "orders/1", what=f"webservice {ws.url}")
    except WebserviceError as exc:
        if exc.status != 404:
            return [
                Finding(
                    "order states",
                    FAIL,
                    f"{redact(exc)}; order state changes wait in quarantine until it"
                    " does (without prestashop.webservice they are written by SQL, with"
                    " no e-mail: docs/prestashop.md)",
                )
            ]
    except ValueError as exc:
        return [Finding("order states", FAIL, redact(exc))]
    return [Finding("order states", OK, mode_line(config) + "; the webservice answers and takes the key")]


def _where(url: str) -> str:
    parsed = split_url(url)  # a password holding / # ? @ stays out of the host
    return f"{parsed.username}@{parsed.host}:{parsed.port or 3306}/{parsed.database}"


def run_doctor(config_path: str) -> list[Finding]:
    try:
        config = load_config(config_path, check_files=False)  # the FactuSOL file is checked below, in words
    except ConfigError as exc:
        return [Finding("config", FAIL, redact(exc))]
    except OSError as exc:
        return [
            Finding(
                "config",
                FAIL,
                f"{exc.filename or config_path} cannot be read ({exc.strerror}): give "
                "this account read access to the config file and its rules folder",
            )
        ]
    findings = [Finding("config", OK, str(config.path))]
    findings += _factusol_findings(config)
    findings += _shop_findings(config)
    findings += _webservice_findings(config)
    return findings


def render(findings: list[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = [f"{TAGS[f.status]} {f.check:<{width}}  {f.detail}" for f in findings]
    worst = summarize(findings)
    lines.append("")
    lines.append(
        {
            OK: "all checks passed: the replicator can run here",
            WARN: "the checks passed with warnings (see above)",
            FAIL: "some checks failed: fix what the [FAIL] lines say, then run `replicator doctor` again",
        }[worst]
    )
    return "\n".join(lines)


def main(args) -> int:
    findings = run_doctor(args.config)
    worst = summarize(findings)
    if args.json:
        print(
            redact(
                json.dumps(
                    {"ok": worst != FAIL, "status": worst, "checks": [asdict(f) for f in findings]},
                    indent=2,
                    default=str,
                    ensure_ascii=False,
                )
            )
        )
    else:
        print(redact(render(findings)))
    return 1 if worst == FAIL else 0
