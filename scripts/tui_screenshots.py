"""Screenshots of the TUI's main screens for docs/tui.md: SVG (Textual's own export), and PNG when `rsvg-convert`
(Debian: librsvg2-bin) is installed.

    .venv/bin/python scripts/tui_screenshots.py [OUT_DIR]     # default docs/tui/

The screens are taken of a real store in a temporary folder, filled the way a running replicator fills it:
changes from both sides, a customer conflict, two quarantined changes, and a service holding the store's lock.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replicator.instance_lock import InstanceLock  # noqa: E402
from replicator.store import APPLIED, ECHO, CapturedRow, Store, dumps  # noqa: E402
from tui.app import ReplicatorApp  # noqa: E402

DESCRIPTION = {
    "config": "C:/ProgramData/replicator/replicator.yaml",
    "store": "sqlite:///C:/ProgramData/replicator/replicator-state.sqlite",
    "rules": "C:/ProgramData/replicator/rules",
    "factusol": {"connection": "", "file": None, "data_dir": "C:/Software DELSOL/FACTUSOL/Datos/FS", "company": "001"},
    "prestashop": {
        "url": "mysql://prestashop:***@shop.example.es:3306/prestashop",
        "prefix": "ps_",
        "id_shop": 1,
        "capture": "binlog",
    },
}


def fill(store: Store) -> None:
    now = datetime.now(timezone.utc)
    rows = []
    for i, (code, _name, before, after) in enumerate(
        [
            ("A100", "Camiseta algodón roja", 12, 11),
            ("A101", "Camiseta algodón azul", 8, 7),
            ("B200-XL", "Sudadera capucha XL", 3, 5),
            ("C300", "Gorra bordada", 20, 18),
        ],
        start=1,
    ):
        rows.append(
            CapturedRow(
                side="factusol",
                entity="stock",
                source_table="F_STO",
                row_key=dumps([code, "GEN"]),
                op="update",
                position=f"scan-{40 + i}",
                before={"ARTSTO": code, "ALMSTO": "GEN", "ACTSTO": before, "DISSTO": before},
                after={"ARTSTO": code, "ALMSTO": "GEN", "ACTSTO": after, "DISSTO": after},
            )
        )
    rows.append(
        CapturedRow(
            side="prestashop",
            entity="customer",
            source_table="ps_customer",
            row_key=dumps([4]),
            op="update",
            position="mysql-bin.000003:81234",
            before={
                "id_customer": 4,
                "firstname": "Pierre",
                "lastname": "Martin",
                "email": "pierre@example.es",
                "passwd": "$2y$10$Qm9vbGVhbkZpZWxkcw",
                "secure_key": "9f1c0ffee5e3b1",
                "newsletter": 0,
                "id_default_group": 3,
                "active": 1,
                "date_upd": "2026-12-07 09:12:00",
            },
            after={
                "id_customer": 4,
                "firstname": "Pierrot",
                "lastname": "Martin",
                "email": "pierre@example.es",
                "passwd": "$2y$10$Qm9vbGVhbkZpZWxkcw",
                "secure_key": "9f1c0ffee5e3b1",
                "newsletter": 1,
                "id_default_group": 3,
                "active": 1,
                "date_upd": "2026-12-07 09:14:31",
            },
        )
    )
    rows.append(
        CapturedRow(
            side="prestashop",
            entity="order",
            source_table="ps_orders",
            row_key=dumps([1042]),
            op="insert",
            position="mysql-bin.000003:82001",
            before=None,
            after={
                "id_order": 1042,
                "reference": "XKBKNABJK",
                "id_customer": 4,
                "current_state": 2,
                "total_paid_tax_incl": "54.45",
                "payment": "Tarjeta",
            },
        )
    )
    rows.append(
        CapturedRow(
            side="factusol",
            entity="customer",
            source_table="F_CLI",
            row_key=dumps([431]),
            op="update",
            position="scan-45",
            before={
                "CODCLI": 431,
                "NOFCLI": "Pierre Martin",
                "NOCCLI": "Pierre A.",
                "EMACLI": "pierre@example.es",
                "TELCLI": "600 111 222",
            },
            after={
                "CODCLI": 431,
                "NOFCLI": "Pierre Martin",
                "NOCCLI": "Pierre A.",
                "EMACLI": "pierre@example.es",
                "TELCLI": "600 111 333",
            },
        )
    )
    rows.append(
        CapturedRow(
            side="factusol",
            entity="product",
            source_table="F_ART",
            row_key=dumps(["CAMISETA-ALGODON-ORGANICO-ROJA-TALLA-XXL-EDICION-2026"]),
            op="update",
            position="scan-46",
            before={"CODART": "CAMISETA-…", "PCOART": "8.10"},
            after={"CODART": "CAMISETA-…", "PCOART": "8.40"},
        )
    )
    store.record_capture(rows, checkpoint=("factusol.scan", {"scan": 46}))
    store.set_change_status([1, 2, 3], APPLIED, "-> shop: stock_available quantity (GEN)")
    store.set_change_status([4], ECHO, "our own write seen again")
    store.set_change_status([7], "conflict", "conflict on firstname", held_by="customer:ps:4")
    store.link("customer", "431", "4")
    image = {"firstname": "Pierre", "lastname": "Martin", "email": "pierre@example.es", "fiscal_name": "Pierre Martin"}
    store.set_baseline("customer", "ps:4", {"factusol": image, "prestashop": image})
    store.open_conflict("customer", "ps:4", "firstname", "Pierre", "Pierre A.", "Pierrot", change_id=5)
    store.quarantine(
        "product",
        "B200-XL",
        "factusol",
        "F_ART B200-XL: VAT type 7 has no shop tax rule (rules/"
        "product.yaml: value_maps.vat); add it, the change is retried",
        field="TIVART",
    )
    store.quarantine(
        "order",
        "ps:1042",
        "prestashop",
        "carrier 'Mensajería urgente 24h' is not mapped (rules/shipment.yaml: carriers)",
        field="id_carrier",
        change_id=6,
    )
    ago = (now - timedelta(seconds=14)).isoformat()
    store.set_checkpoint(
        "service",
        {
            "pid": 4120,
            "capture": {
                "factusol": {"state": "idle", "last_scan_at": ago, "file": "0012026.accdb"},
                "prestashop": {
                    "state": "streaming",
                    "file": "mysql-bin.000003",
                    "pos": 82001,
                    "last_event_at": (now - timedelta(seconds=3)).isoformat(),
                },
            },
        },
    )


SHOTS = [
    # name, size, keys pressed before the shot
    ("changes", (120, 36), ["down", "down"]),
    ("changes-wide", (200, 50), ["down", "down"]),
    ("changes-80x24", (80, 24), []),
    ("filter", (120, 36), ["slash", *"pierre", "enter"]),
    ("conflicts", (120, 36), ["2"]),
    ("resolve-confirm", (120, 36), ["2", "p"]),
    ("quarantine", (120, 36), ["3"]),
    ("help", (120, 36), ["2", "question_mark"]),
]


async def shoot(store: Store, out: Path, name: str, size: tuple[int, int], keys: list[str]) -> Path:
    app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=60)
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
        path = out / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"replicator tui — {name}"), encoding="utf-8")
    return path


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "tui"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'state.sqlite'}")
        fill(store)
        lock = InstanceLock(store, "run")
        lock.acquire()
        try:
            for name, size, keys in SHOTS:
                svg = asyncio.run(shoot(store, out, name, size, keys))
                print(svg)
                if shutil.which("rsvg-convert"):
                    png = svg.with_suffix(".png")
                    # rsvg drops a span's leading spaces unless told to keep them (browsers keep them anyway)
                    preserved = Path(tmp) / svg.name
                    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
                    preserved.write_text(text, encoding="utf-8")
                    subprocess.run(["rsvg-convert", "-o", str(png), str(preserved)], check=True)
                    print(png)
        finally:
            lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
