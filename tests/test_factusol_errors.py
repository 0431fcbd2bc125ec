"""Driver errors are classified by SQLSTATE and native number, in English and in Spanish, and on the stand-in.

The table holds the ACE driver's messages as pyodbc shows them.  `verified` says where the SQLSTATE/native number
and the English wording were seen in public driver output; the Spanish texts are the Spanish Access wording as
far as it could be found and are NOT verified against a Spanish ACE driver: the classification does not depend on
them (the SQLSTATE and native number are the same in every language), which the "number only" rows prove.
"""

from __future__ import annotations

import re
import sqlite3

import pyodbc
import pytest

from replicator.factusol import errors
from replicator.factusol.connection import FactusolConnection, connection_string_for, open_factusol
from replicator.factusol.driver import driver_advice
from replicator.factusol.errors import (
    FactusolDriverError,
    FactusolDuplicateKeyError,
    FactusolLockedError,
    FactusolNotWritableError,
    FactusolWidthError,
    classify,
)
from replicator.sandbox.access_sql import *  # noqa: F401,F403

EN = "[Microsoft][ODBC Microsoft Access Driver]"
ES = "[Microsoft][Controlador ODBC Microsoft Access]"

# (case, SQLSTATE, driver message as pyodbc shows it, kind, verified)
TABLE = [
    (
        "duplicate-en",
        "23000",
        f"[23000] {EN} The changes you requested to the table were not successful because they "
        "would create duplicate values in the index, primary key, or relationship. Change the data in the field or "
        "fields that contain duplicate data, remove the index, or redefine the index to permit duplicate entries and "
        "try again. (-1605) (SQLExecDirectW)",
        errors.DUPLICATE,
        True,
    ),
    (
        "duplicate-es",
        "23000",
        f"[23000] {ES} Los cambios solicitados en la tabla no se realizaron correctamente porque "
        "crearían valores duplicados en el índice, clave principal o relación. (-1605) (SQLExecDirectW)",
        errors.DUPLICATE,
        False,
    ),
    (
        "exclusive-en",
        "HY000",
        f"[HY000] {EN} The Microsoft Access database engine cannot open or write to the file "
        "'C:\\Software DELSOL\\FACTUSOL\\Datos\\FS\\0012026.accdb'. It is already opened exclusively by another user, "
        "or you need permission to view and write its data. (-1032) (SQLDriverConnect)",
        errors.LOCK,
        True,
    ),
    (
        "exclusive-es",
        "HY000",
        f"[HY000] {ES} El motor de base de datos de Microsoft Access no puede abrir el archivo "
        "'C:\\Software DELSOL\\FACTUSOL\\Datos\\FS\\0012026.accdb' o escribir en él. Otro usuario ya lo tiene "
        "abierto en modo exclusivo, o necesita permiso para ver y escribir sus datos. (-1032) (SQLDriverConnect)",
        errors.LOCK,
        False,
    ),
    (
        "locked-en",
        "HY000",
        f"[HY000] {EN} Could not update; currently locked. (-1102) (SQLExecDirectW)",
        errors.LOCK,
        False,
    ),
    (
        "locked-es",
        "HY000",
        f"[HY000] {ES} No se pudo actualizar; bloqueado actualmente. (-1102) (SQLExecDirectW)",
        errors.LOCK,
        False,
    ),
    (
        "table-locked-en",
        "HY000",
        f"[HY000] {EN} Could not lock table 'F_ART'; currently in use by user 'Admin' on "
        "machine 'CAJA1'. (-1302) (SQLExecDirectW)",
        errors.LOCK,
        False,
    ),
    (
        "updateable-en",
        "HY000",
        f"[HY000] {EN} Operation must use an updateable query. (-3035) (SQLExecDirectW)",
        errors.NOT_WRITABLE,
        False,
    ),
    (
        "updateable-es",
        "HY000",
        f"[HY000] {ES} La operación debe usar una consulta actualizable. (-3035) (SQLExecDirectW)",
        errors.NOT_WRITABLE,
        False,
    ),
    (
        "read-only-en",
        "42000",
        f"[42000] {EN} Cannot update. Database or object is read-only. (-1809) (SQLExecDirectW)",
        errors.NOT_WRITABLE,
        True,
    ),
    (
        "too-small-en",
        "22001",
        f"[22001] {EN}String data, right truncated (null) (SQLExecDirectW)",
        errors.TOO_SMALL,
        False,
    ),
    (
        "too-small-text-en",
        "HY000",
        f"[HY000] {EN} The field is too small to accept the amount of data you attempted "
        "to add. Try inserting or pasting less data. (SQLExecDirectW)",
        errors.TOO_SMALL,
        False,
    ),
    (
        "too-small-text-es",
        "HY000",
        f"[HY000] {ES} El campo es demasiado pequeño para aceptar la cantidad de datos que "
        "intentó agregar. Intente insertar o pegar menos datos. (SQLExecDirectW)",
        errors.TOO_SMALL,
        False,
    ),
    (
        "no-file-en",
        "HY000",
        f"[HY000] {EN} Could not find file 'C:\\Datos\\FS\\0012026.accdb'. (-1811) (SQLDriverConnect)",
        errors.NO_FILE,
        True,
    ),
    (
        "not-access-es",
        "HY000",
        f"[HY000] {ES} Formato de base de datos no reconocido 'C:\\x.accdb'. (-1028) (SQLDriverConnect)",
        errors.NOT_ACCESS,
        True,
    ),
    (
        "no-driver-en",
        "IM002",
        "[IM002] [Microsoft][ODBC Driver Manager] Data source name not found and no default "
        "driver specified (0) (SQLDriverConnect)",
        errors.NO_DRIVER,
        True,
    ),
    (
        "no-driver-es",
        "IM002",
        "[IM002] [Microsoft][Administrador de controladores ODBC] No se encuentra el nombre del "
        "origen de datos y no se especificó ningún controlador predeterminado (0) (SQLDriverConnect)",
        errors.NO_DRIVER,
        True,
    ),
    (
        "bitness-en",
        "IM014",
        "[IM014] [Microsoft][ODBC Driver Manager] The specified DSN contains an architecture "
        "mismatch between the Driver and Application (0) (SQLDriverConnect)",
        errors.BITNESS,
        True,
    ),
    # the number alone decides, whatever the language (an unknown wording here)
    (
        "number-only-duplicate",
        "23000",
        "[23000] [Microsoft][ODBC-Treiber] xxxx (-1605) (SQLExecDirectW)",
        errors.DUPLICATE,
        False,
    ),
    (
        "number-only-lock",
        "HY000",
        "[HY000] [Microsoft][ODBC-Treiber] xxxx (-1032) (SQLDriverConnect)",
        errors.LOCK,
        False,
    ),
    (
        "number-only-updateable",
        "HY000",
        "[HY000] [Microsoft][ODBC-Treiber] xxxx (-3035) (SQLExecDirectW)",
        errors.NOT_WRITABLE,
        False,
    ),
    (
        "other",
        "42000",
        f"[42000] {EN} Syntax error in INSERT INTO statement. (-3502) (SQLExecDirectW)",
        errors.OTHER,
        False,
    ),
]


@pytest.mark.parametrize("case,state,message,kind,verified", TABLE, ids=[row[0] for row in TABLE])
def test_access_driver_messages_are_classified(case, state, message, kind, verified):
    exc = pyodbc.Error(state, message)  # the exception pyodbc raises, with its (SQLSTATE, message) arguments
    found = classify(exc)
    assert found.kind == kind
    assert found.sqlstate == state
    numbers = re.findall(r"\((-?\d+)\)", message)
    assert found.native == (int(numbers[-1]) if numbers else None)


def test_what_each_kind_becomes():
    def translated(state, message, sql="INSERT INTO [F_PCL] ([TIPPCL]) VALUES (?)"):
        return errors.translate(pyodbc.Error(state, message), sql, "C:\\Datos\\FS\\0012026.accdb")

    by_case = {row[0]: row for row in TABLE}
    assert isinstance(translated(*by_case["duplicate-es"][1:3]), FactusolDuplicateKeyError)
    assert isinstance(translated(*by_case["locked-es"][1:3]), FactusolLockedError)
    width = translated(*by_case["too-small-text-es"][1:3])
    assert isinstance(width, FactusolWidthError) and width.table == "F_PCL"
    not_writable = translated(*by_case["updateable-es"][1:3])
    assert isinstance(not_writable, FactusolNotWritableError)
    assert "Modify" in str(not_writable) and ".laccdb" in str(not_writable) and "0012026.accdb" in str(not_writable)
    assert isinstance(translated(*by_case["bitness-en"][1:3]), FactusolDriverError)


# -------------------------------------------------------------------------------- the stand-in's real errors


def test_stand_in_duplicate_key_is_classified(fs_conn):
    with pytest.raises(FactusolDuplicateKeyError):
        fs_conn.execute("INSERT INTO [F_ALM] ([CODALM], [NOMALM]) VALUES (?, ?)", ["GEN", "otra"])


def test_stand_in_value_too_wide_is_classified(fs_conn):
    with pytest.raises(FactusolWidthError):
        fs_conn.execute("UPDATE [F_ALM] SET [NOMALM] = ? WHERE [CODALM] = ?", ["x" * 500, "GEN"])


def test_stand_in_lock_is_classified(sandbox_path):
    holder = sqlite3.connect(sandbox_path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FactusolLockedError):
            open_factusol(connection_string_for(sandbox_path).replace("Timeout=2000", "Timeout=50"), retries=0)
    finally:
        holder.rollback()
        holder.close()


def test_missing_access_driver_says_what_to_install(tmp_path):
    """On this system the real driver manager answers that the Access driver is not there."""
    conn = f"DRIVER={{Microsoft Access Driver (*.mdb, *.accdb)}};DBQ={tmp_path / '0012026.accdb'}"
    with pytest.raises(FactusolDriverError) as caught:
        FactusolConnection(conn)
    message = str(caught.value)
    assert message == driver_advice()
    assert "Traceback" not in message and "\n" not in message


def test_driver_advice_on_windows_names_the_bitness():
    from replicator.factusol.driver import AccessDriver

    missing = driver_advice(platform="win32", found=AccessDriver("", 64, other_bitness=False))
    assert "not installed for this 64-bit Python" in missing and "32-bit" in missing
    other = driver_advice(platform="win32", found=AccessDriver("", 64, other_bitness=True))
    assert "is 32-bit but this Python is 64-bit" in other and "install 32-bit Python" in other
    assert "Access Database Engine" in other


def test_fast_executemany_is_off_for_access_unless_asked(fs_conn):
    """The flag an executemany cursor gets: off by default; on only when asked and only for Access."""
    cur = fs_conn._cn.cursor()
    try:
        fs_conn._batch_options(cur)
        assert cur.fast_executemany is False
        fs_conn.dialect = "access"  # as on Windows (nothing is executed with it)
        fs_conn._batch_options(cur)
        assert cur.fast_executemany is False
        fs_conn.fast_executemany = True
        fs_conn._batch_options(cur)
        assert cur.fast_executemany is True
        fs_conn.dialect = "sqlite"
        fs_conn._batch_options(cur)
        assert cur.fast_executemany is False
    finally:
        cur.close()
    fs_conn.fast_executemany = False
    fs_conn.executemany("INSERT INTO [F_CE2] ([CODCE2], [DESCE2]) VALUES (?, ?)", [("ZZ1", "Azul"), ("ZZ2", "Verde")])
    assert fs_conn.scalar("SELECT COUNT(*) AS [N] FROM [F_CE2] WHERE [CODCE2] IN (?, ?)", ["ZZ1", "ZZ2"]) == 2


def test_run_without_the_access_driver_says_what_to_install_in_one_line(tmp_path, monkeypatch, capsys):
    from replicator.cli import main

    monkeypatch.setenv("PS_DB_PASSWORD", "x")
    access = f"DRIVER={{Microsoft Access Driver (*.mdb, *.accdb)}};DBQ={tmp_path / '0012026.accdb'}"
    (tmp_path / "0012026.accdb").write_bytes(b"")  # the file is there; only the driver is missing
    assert main(["init", str(tmp_path / "conf"), "--factusol", access]) == 0
    capsys.readouterr()
    assert main(["run", "--once", "--config", str(tmp_path / "conf" / "replicator.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"error: {driver_advice()}"  # (a log line about the shop may come first)
    assert "Traceback" not in err
