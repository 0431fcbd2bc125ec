"""Numbers and dates reach FactuSOL unchanged under a Spanish locale (decimal comma).

On a Spanish Windows the C library and the driver run with ',' as the decimal separator.  The replicator sends
every number and date as a typed parameter (Decimal, float, datetime), never as formatted text, so the locale
cannot change them.  The check runs in a child process with es_ES.UTF-8 in force (generated here with
`localedef` from Debian's `locales` package when the system has not got it), writing through the real writer
and pyodbc into the stand-in, and reading the stored values back both through the driver and straight from the
file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from replicator.sandbox.access_sql import *  # noqa: F401,F403

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHILD = textwrap.dedent("""
    import json, locale, sqlite3, sys
    from datetime import datetime
    from decimal import Decimal

    locale.setlocale(locale.LC_ALL, "")          # the user's locale, as a Windows program runs with
    assert locale.localeconv()["decimal_point"] == ",", locale.localeconv()["decimal_point"]
    assert locale.str(1234.5) == "1234,5"

    from replicator.factusol.connection import connection_string_for, open_factusol
    from replicator.factusol.writer import insert_row, update_fields, update_stock

    path = sys.argv[1]
    conn = open_factusol(connection_string_for(path))
    article = conn.scalar("SELECT TOP 1 [CODART] FROM [F_ART] ORDER BY [CODART]")
    when = datetime(2026, 3, 14, 15, 9, 26)
    update_fields(conn, "F_ART", {"CODART": article}, {"PCOART": Decimal("1234.5678"), "FUMART": when})
    update_stock(conn, article, "GEN", actual=Decimal("-7.25"), available=Decimal("0.5"))
    insert_row(conn, "F_LPC", {"TIPLPC": "1", "CODLPC": 987654, "POSLPC": 1, "ARTLPC": article,
                               "CANLPC": Decimal("2.5"), "DT1LPC": 12.5, "PRELPC": Decimal("19.99")})
    stock_row = "[ARTSTO] = ? AND [ALMSTO] = ?"
    via_driver = {
        "PCOART": str(conn.scalar("SELECT [PCOART] FROM [F_ART] WHERE [CODART] = ?", [article])),
        "FUMART": conn.scalar("SELECT [FUMART] FROM [F_ART] WHERE [CODART] = ?", [article]).isoformat(),
        "ACTSTO": str(conn.scalar(f"SELECT [ACTSTO] FROM [F_STO] WHERE {stock_row}", [article, "GEN"])),
        "DISSTO": str(conn.scalar(f"SELECT [DISSTO] FROM [F_STO] WHERE {stock_row}", [article, "GEN"])),
        "DT1LPC": conn.scalar("SELECT [DT1LPC] FROM [F_LPC] WHERE [CODLPC] = ?", [987654]),
        "PRELPC": str(conn.scalar("SELECT [PRELPC] FROM [F_LPC] WHERE [CODLPC] = ?", [987654])),
    }
    conn.close()
    raw = sqlite3.connect(path)
    stored = {
        "PCOART": raw.execute("SELECT CAST(PCOART AS TEXT) FROM F_ART WHERE CODART = ?", [article]).fetchone()[0],
        "ACTSTO": raw.execute("SELECT CAST(ACTSTO AS TEXT) FROM F_STO WHERE ARTSTO = ? AND ALMSTO = 'GEN'",
                              [article]).fetchone()[0],
        "DT1LPC": raw.execute("SELECT DT1LPC FROM F_LPC WHERE CODLPC = 987654").fetchone()[0],
    }
    print(json.dumps({"driver": via_driver, "stored": stored}))
""")


@pytest.fixture(scope="session")
def spanish_locale_env(tmp_path_factory):
    """Environment variables that put a child process in es_ES.UTF-8 (a locale generated into a temp folder)."""
    env = dict(os.environ, LC_ALL="es_ES.UTF-8", LANG="es_ES.UTF-8")
    probe = [sys.executable, "-c", "import locale; locale.setlocale(locale.LC_ALL, '')"]
    if subprocess.run(probe, env=env, capture_output=True).returncode == 0:
        return env  # the system has it
    localedef = shutil.which("localedef")
    if not localedef or not os.path.exists("/usr/share/i18n/locales/es_ES"):
        message = "es_ES.UTF-8 cannot be generated: install Debian's `locales` package (make system does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("locales")
    subprocess.run(
        [localedef, "-i", "es_ES", "-f", "UTF-8", str(folder / "es_ES.UTF-8")], check=True, capture_output=True
    )
    env["LOCPATH"] = str(folder)  # glibc looks for locales here first
    subprocess.run(probe, env=env, check=True)
    return env


def test_numbers_and_dates_survive_a_decimal_comma_locale(sandbox_path, spanish_locale_env):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(sandbox_path)],
        env=spanish_locale_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["driver"] == {
        "PCOART": "1234.5678",
        "FUMART": "2026-03-14T15:09:26",
        "ACTSTO": "-7.2500",
        "DISSTO": "0.5000",
        "DT1LPC": 12.5,
        "PRELPC": "19.9900",
    }
    assert float(result["stored"]["PCOART"]) == 1234.5678  # a number in the file, not "1234,5678"
    assert float(result["stored"]["ACTSTO"]) == -7.25
    assert result["stored"]["DT1LPC"] == 12.5
