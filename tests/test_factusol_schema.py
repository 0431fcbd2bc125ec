"""The stand-in has FactuSOL's tables, columns and widths, and enforces widths and integer ranges like Access."""

import json

import pytest

from replicator.factusol.connection import FactusolError, connection_string_for, open_factusol
from replicator.factusol.schema import FactusolWidthError, load_schema, table_ddl
from replicator.sandbox.access_sql import *  # noqa: F401,F403

REQUIRED = [
    "F_CLI",
    "F_OBR",
    "F_ART",
    "F_EAN",
    "F_STO",
    "F_ALM",
    "F_FAM",
    "F_SEC",
    "F_TAR",
    "F_LTA",
    "F_CFG",
    "F_FPA",
    "F_TRN",
    "F_PCL",
    "F_LPC",
    "F_ALB",
    "F_LAL",
    "F_FAC",
    "F_LFA",
    "F_ARC",
    "F_STC",
    "F_CE1",
    "F_CE2",
    "F_LTC",
    "F_EAC",
    "F_EMP",
]
ODBC_TYPES = {
    "Texto corto": "VARCHAR",
    "Texto largo": "TEXT",
    "Entero": "SMALLINT",
    "Entero largo": "INTEGER",
    "Moneda": "DECIMAL(19,4)",
    "Simple": "REAL",
    "Doble": "DOUBLE",
    "Fecha/Hora": "DATETIME",
    "Objeto OLE": "BLOB",
}


def test_fixture_has_required_tables_and_pks():
    schema = load_schema()
    for name in REQUIRED:
        t = schema[name]
        assert t.columns and t.pk and all(k in t.by_name for k in t.pk), name
    assert schema["F_CLI"].column("CPOCLI").size == 10
    assert schema["F_ART"].column("CODART").size == 13
    assert schema["F_PCL"].column("CPOPCL").size == 30 and schema["F_PCL"].column("CCPPCL").size == 10
    assert schema["F_STO"].pk == ("ARTSTO", "ALMSTO")


def test_unknown_types_are_noted():
    for t in load_schema().values():
        for c in t.columns:
            assert c.type in ODBC_TYPES, (t.name, c.name, c.type)
    assert "unknown" in load_schema()["F_FAC"].column("BCOFAC").note


def test_sandbox_catalog_matches_fixture(fs_conn):
    names = set(fs_conn.table_names())
    for t in load_schema().values():
        assert t.name in names
        cols = fs_conn.columns(t.name)
        assert [c[0] for c in cols] == [c.name for c in t.columns]
        for (name, type_name, size), col in zip(cols, t.columns):
            assert type_name.startswith(ODBC_TYPES[col.type]), (t.name, name, type_name)
            if col.type == "Texto corto":
                assert type_name == f"VARCHAR({col.size})"


@pytest.mark.reference
def test_fixture_matches_reference(reference_dir):
    ref = json.loads((reference_dir / "factusol" / "factusol_key_tables_schema.json").read_text(encoding="utf-8"))
    schema = load_schema()
    for t in ref["tables"]:
        ours = schema[t["table"]]
        assert list(ours.pk) == t["pk"]
        assert [c.name for c in ours.columns] == [c["name"].split(" ")[0] for c in t["columns"]]
        for rc in t["columns"]:
            col = ours.column(rc["name"].split(" ")[0])
            if rc["access_type"] == "Texto corto":
                assert col.type == "Texto corto" and col.size == int(rc["size"]), col
            elif rc["type_src"] == "G":
                assert col.type == rc["access_type"], col


def test_ddl_shape():
    ddl = table_ddl(load_schema()["F_STO"])
    assert "CHECK (length([ARTSTO]) <= 13)" in ddl and "PRIMARY KEY ([ARTSTO], [ALMSTO])" in ddl
    assert "[ACTSTO] DECIMAL(19,4)" in ddl


@pytest.mark.parametrize(
    "sql, params",
    [
        ("INSERT INTO [F_ALM] ([CODALM], [NOMALM]) VALUES (?, ?)", ["ABCD", "too long code"]),  # Texto 3
        ("UPDATE [F_CLI] SET [CPOCLI] = ? WHERE [CODCLI] = ?", ["28013-12345", 2]),  # Texto 10
        ("UPDATE [F_CLI] SET [DOCCLI] = ? WHERE [CODCLI] = ?", [40000, 2]),  # Entero range
        ("UPDATE [F_STO] SET [ACTSTO] = ? WHERE [ARTSTO] = ?", ["muchos", "X"]),  # text into Moneda
    ],
)
def test_stand_in_rejects_what_access_rejects(fs_conn, sql, params):
    fs_conn.execute("INSERT INTO [F_STO] ([ARTSTO], [ALMSTO]) VALUES (?, ?)", ["X", "GEN"])
    with pytest.raises(FactusolError if "ACTSTO" in sql or "DOCCLI" in sql else FactusolWidthError):
        fs_conn.execute(sql, params)


def test_width_error_from_driver_names_table_and_column(fs_conn):
    with pytest.raises(FactusolWidthError) as err:
        fs_conn.execute("UPDATE [F_CLI] SET [CPOCLI] = ? WHERE [CODCLI] = ?", ["12345678901", 2])
    assert err.value.table == "F_CLI" and err.value.column == "CPOCLI"
    assert fs_conn.scalar("SELECT [CPOCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [2]) != "12345678901"


def test_text_keys_are_case_insensitive_like_access(fs_conn):
    from replicator.factusol.connection import FactusolDuplicateKeyError

    with pytest.raises(FactusolDuplicateKeyError):
        fs_conn.execute("INSERT INTO [F_ALM] ([CODALM], [NOMALM]) VALUES (?, ?)", ["gen", "duplicate of GEN"])


def test_sandbox_reopens_with_connection_string(sandbox_path):
    with open_factusol(connection_string_for(sandbox_path)) as conn:
        assert conn.scalar("SELECT COUNT(*) AS [N] FROM [F_ART]") == 1000
