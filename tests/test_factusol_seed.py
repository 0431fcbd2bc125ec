"""Seed helpers (NIF/NIE/CIF/EAN-13) and the validity and determinism of the seeded stand-in."""

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from replicator.sandbox import factusol_seed as sd
from replicator.sandbox.factusol_seed import build_seed
from replicator.sandbox.access_sql import *  # noqa: F401,F403  (Access-SQL guard + sandbox fixtures)


def test_known_nif_cif_ean_vectors():
    assert sd.make_nif(12345678) == "12345678Z"
    assert sd.is_valid_nif("12345678Z") and not sd.is_valid_nif("12345678A")
    assert sd.make_nie("X", 1234567) == "X1234567L"
    assert sd.is_valid_nif("X1234567L")
    assert sd.is_valid_nif("A58818501")  # a published example CIF
    assert not sd.is_valid_nif("A58818502")
    assert sd.make_cif("Q", "2826000") == "Q2826000H"  # letter-control organisation type
    assert sd.is_valid_nif("ESB65410011") == sd.is_valid_nif("B65410011")
    assert sd.is_valid_ean13("4006381333931")  # GS1/Wikipedia example
    assert not sd.is_valid_ean13("4006381333932")
    assert sd.make_ean13("840000000001") == "8400000000017"


@given(st.integers(0, 99_999_999))
def test_nif_roundtrip_and_single_letter_change(n):
    nif = sd.make_nif(n)
    assert sd.is_valid_nif(nif)
    wrong = sd.DNI_LETTERS[(sd.DNI_LETTERS.index(nif[-1]) + 1) % 23]
    assert not sd.is_valid_nif(nif[:-1] + wrong)


@given(st.sampled_from(sorted(sd.CIF_TYPES)), st.integers(0, 9_999_999))
def test_cif_valid(org, n):
    assert sd.is_valid_nif(sd.make_cif(org, f"{n:07d}"))


@given(st.text("0123456789", min_size=12, max_size=12), st.integers(0, 11), st.integers(1, 9))
def test_ean13_detects_single_digit_errors(first12, pos, delta):
    ean = sd.make_ean13(first12)
    assert sd.is_valid_ean13(ean)
    changed = first12[:pos] + str((int(first12[pos]) + delta) % 10) + first12[pos + 1 :]
    assert not sd.is_valid_ean13(changed + ean[-1])


def test_seed_is_deterministic():
    a = build_seed(articles=200, customers=50, seed=7, year=2025)
    b = build_seed(articles=200, customers=50, seed=7, year=2025)
    c = build_seed(articles=200, customers=50, seed=8, year=2025)
    assert a == b
    assert a["F_ART"] != c["F_ART"]


def test_sandbox_seed_content_is_valid(sandbox_template):
    db = sqlite3.connect(sandbox_template)
    nifs = [r[0] for r in db.execute("SELECT NIFCLI FROM F_CLI WHERE CODCLI <> 1")]
    assert nifs and all(sd.is_valid_nif(n) for n in nifs)
    assert len(set(nifs)) == len(nifs)
    assert db.execute("SELECT NOFCLI, NIFCLI FROM F_CLI WHERE CODCLI = 1").fetchone() == ("CLIENTE CONTADO WEB", "")
    eans = [
        r[0]
        for r in db.execute(
            "SELECT EANART FROM F_ART UNION ALL SELECT EANEAN FROM F_EAN UNION ALL SELECT EANEAC FROM F_EAC"
        )
    ]
    assert all(sd.is_valid_ean13(e) for e in eans) and len(set(eans)) == len(eans)
    prefixes = {p: code for code, p, _ in sd.PROVINCES}
    for pc, prov in db.execute("SELECT CPOCLI, PROCLI FROM F_CLI UNION ALL SELECT CPOOBR, PROOBR FROM F_OBR"):
        assert pc[:2] == prefixes[prov], (pc, prov)
    assert {r[0] for r in db.execute("SELECT CODALM FROM F_ALM")} == {"GEN", "AL2"}
    n_art = db.execute("SELECT COUNT(*) FROM F_ART").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM F_STO").fetchone()[0] == 2 * n_art  # one row per article per warehouse
    assert db.execute("SELECT COUNT(*) FROM F_LTA").fetchone()[0] == 2 * n_art  # one price per article per tariff
    assert dict(db.execute("SELECT CODTAR, IVATAR FROM F_TAR")) == {1: 0, 2: 1}
    cfg = dict(db.execute("SELECT CODCFG, NUMCFG FROM F_CFG WHERE CODCFG LIKE 'ImpuestosIvas%'"))
    assert cfg == {
        "ImpuestosIvasPrimerPeriodo1": 21,
        "ImpuestosIvasPrimerPeriodo2": 10,
        "ImpuestosIvasPrimerPeriodo3": 4,
    }
    assert {r[0] for r in db.execute("SELECT CODFPA FROM F_FPA")} >= {"TAR", "TRF", "CON", "PAY"}
    assert db.execute("SELECT COUNT(*) FROM F_TRN").fetchone()[0] >= 3
    assert db.execute("SELECT COUNT(*) FROM F_ARC").fetchone()[0] > 0
    assert (
        db.execute("SELECT COUNT(*) FROM F_STC").fetchone()[0]
        == 2 * db.execute("SELECT COUNT(*) FROM F_ARC").fetchone()[0]
    )
    # every F_ARC combination uses defined sizes and colours
    assert (
        db.execute(
            "SELECT COUNT(*) FROM F_ARC WHERE CE1ARC NOT IN (SELECT CODCE1 FROM F_CE1) "
            "OR CE2ARC NOT IN (SELECT CODCE2 FROM F_CE2)"
        ).fetchone()[0]
        == 0
    )
    assert db.execute("SELECT COUNT(*) FROM F_PCL").fetchone()[0] > 0
    # lines of orders: pending = quantity, total = qty x price
    for can, pen, pre, tot in db.execute("SELECT CANLPC, PENLPC, PRELPC, TOTLPC FROM F_LPC"):
        assert can == pen and abs(can * pre - tot) < 0.01
    # order headers: CPO = población (a town name), CCP = postcode (digits)
    for cpo, ccp in db.execute("SELECT CPOPCL, CCPPCL FROM F_PCL"):
        assert ccp.isdigit() and not cpo.isdigit()
    db.close()
