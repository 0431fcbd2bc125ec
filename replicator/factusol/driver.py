"""Which ODBC driver opens FactuSOL here, whether it is installed, and its bitness.

On Windows the Access Database Engine (ACE) ODBC driver must have the same bitness as Python: a 32-bit Python sees
only 32-bit drivers.  FactuSOL PCs usually have 32-bit Office components, beside which the 64-bit ACE cannot be
installed, so the usual answer is 32-bit Python + the 32-bit ACE redistributable.  Elsewhere the stand-in's SQLite3
ODBC driver is used (its name differs per platform).
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass

ACCESS_DRIVER = "Microsoft Access Driver (*.mdb, *.accdb)"
ACE_DOWNLOAD = "Microsoft Access Database Engine 2016 Redistributable"
_ACE_NAME = re.compile(r"(?i)access.*\*\.accdb")


def python_bits() -> int:
    return struct.calcsize("P") * 8


def sqlite_driver_name(platform: str | None = None) -> str:
    """The stand-in's ODBC driver name: the one installed here, else the platform's usual name ('SQLite3' as
    Debian's libsqliteodbc registers it; 'SQLite3 ODBC Driver' as the sqliteodbc installer does on Windows)."""
    platform = platform or sys.platform
    names = ["SQLite3 ODBC Driver", "SQLite3"] if platform == "win32" else ["SQLite3", "SQLite3 ODBC Driver"]
    if platform == sys.platform:
        installed = {d.lower() for d in _installed_drivers()}
        for name in names:
            if name.lower() in installed:
                return name
    return names[0]


def _installed_drivers() -> list[str]:
    import pyodbc

    try:
        return list(pyodbc.drivers())
    except Exception:  # no driver manager at all (unixODBC missing): nothing is installed
        return []


def _other_bitness_drivers() -> list[str]:
    """Driver names registered for the other bitness (Windows only: the other registry view of ODBCINST.INI)."""
    if sys.platform != "win32":
        return []
    import winreg

    view = winreg.KEY_WOW64_32KEY if python_bits() == 64 else winreg.KEY_WOW64_64KEY
    try:
        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\ODBC\ODBCINST.INI\ODBC Drivers", 0, winreg.KEY_READ | view
        ) as key:
            names, index = [], 0
            while True:
                try:
                    names.append(winreg.EnumValue(key, index)[0])
                except OSError:
                    return names
                index += 1
    except OSError:
        return []


@dataclass(frozen=True)
class AccessDriver:
    """What is installed: the ACE driver name this Python sees (or ""), and whether the other bitness has one."""

    name: str
    bits: int
    other_bitness: bool


def find_access_driver() -> AccessDriver:
    here = next((d for d in _installed_drivers() if _ACE_NAME.search(d)), "")
    other = not here and any(_ACE_NAME.search(d) for d in _other_bitness_drivers())
    return AccessDriver(here, python_bits(), other)


def driver_advice(kind: str = "no_driver", platform: str | None = None, found: AccessDriver | None = None) -> str:
    """One sentence saying exactly what to install (for a missing driver or one of the other bitness)."""
    platform = platform or sys.platform
    if platform != "win32":
        return (
            f"the Microsoft Access ODBC driver ({ACCESS_DRIVER}) exists only on Windows: run the replicator on "
            "the FactuSOL PC (see docs/windows.md), or point factusol at a stand-in made with "
            "`replicator sandbox factusol` (it needs the SQLite3 ODBC driver: apt-get install libsqliteodbc)"
        )
    found = found or find_access_driver()
    bits, other = found.bits, 96 - found.bits
    if kind == "bitness" or found.other_bitness:
        return (
            f"the Microsoft Access ODBC driver installed on this PC is {other}-bit but this Python is {bits}-bit: "
            f"install {other}-bit Python and the replicator in it (32-bit FactuSOL PCs need 32-bit Python), "
            f"or the {bits}-bit {ACE_DOWNLOAD} if no {other}-bit Office is installed"
        )
    return (
        f"the Microsoft Access ODBC driver ({ACCESS_DRIVER}) is not installed for this {bits}-bit Python: install "
        f"the {bits}-bit {ACE_DOWNLOAD} (on a PC with 32-bit FactuSOL or Office, use 32-bit Python and the "
        f"32-bit engine)"
    )


def check_driver_for(conn_str: str) -> str | None:
    """None when the driver a connection string names is installed here, else the sentence saying what to do."""
    match = re.search(r"(?i)DRIVER\s*=\s*\{([^}]*)\}", conn_str)
    if not match:
        return None  # a DSN: the driver manager decides
    wanted = match.group(1).strip()
    installed = _installed_drivers()
    if any(d.lower() == wanted.lower() for d in installed):
        return None
    if _ACE_NAME.search(wanted):
        return driver_advice()
    if "sqlite" in wanted.lower():
        return (
            f"the SQLite3 ODBC driver '{wanted}' of the FactuSOL stand-in is not installed (Debian: apt-get "
            f"install libsqliteodbc; Windows: the sqliteodbc installer, driver '{sqlite_driver_name('win32')}')"
        )
    return f"the ODBC driver '{wanted}' named in factusol.connection is not installed on this computer"
