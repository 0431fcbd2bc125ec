"""Create a throwaway PrestaShop database from our schema fixture and seed it like a fresh (Spanish) shop.

``create_shop(...)`` always loads the reference data a real install has (shop, languages en+es, countries,
Spanish provinces, EUR, groups, carriers, the 13 order states with their PS_OS_* keys, stock movement reasons,
configuration keys, Spanish VAT 21/10/4 with tax rule groups).  ``demo=True`` adds a small catalogue (simple
products and products with Size/Color combinations), customers with addresses, and orders with lines, carriers,
history and invoices.  ``products=N`` / ``customers=N`` add N generated ones.  Everything is deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal


from replicator.prestashop import schema
from replicator.config import parse_mysql_url
from replicator.prestashop.connection import ShopConnection, connect

T0 = datetime(2024, 5, 6, 10, 0, 0)  # fixed clock: the sandbox is deterministic
ZERO = "0000-00-00 00:00:00"

LANGS = [  # id, name, iso, language_code, locale, date formats
    (1, "English (English)", "en", "en-us", "en-US", "m/d/Y", "m/d/Y H:i:s"),
    (2, "Español (Spanish)", "es", "es-es", "es-ES", "d/m/Y", "d/m/Y H:i:s"),
]
ZONES = [(1, "Europe"), (2, "North America"), (7, "Europe (non-EU)")]
COUNTRIES = [  # id, zone, iso, call prefix, contains_states, need_identification_number, zip format, en, es
    (1, 1, "DE", 49, 0, 0, "NNNNN", "Germany", "Alemania"),
    (6, 1, "ES", 34, 1, 1, "NNNNN", "Spain", "España"),
    (8, 1, "FR", 33, 0, 0, "NNNNN", "France", "Francia"),
    (10, 1, "IT", 39, 1, 0, "NNNNN", "Italy", "Italia"),
    (15, 1, "PT", 351, 0, 0, "NNNN-NNN", "Portugal", "Portugal"),
    (17, 7, "GB", 44, 0, 0, "", "United Kingdom", "Reino Unido"),
    (21, 2, "US", 1, 1, 0, "NNNNN", "United States", "Estados Unidos"),
]
ES_PROVINCES = [  # ISO 3166-2 codes
    ("ES-C", "A Coruña"),
    ("ES-A", "Alicante"),
    ("ES-O", "Asturias"),
    ("ES-B", "Barcelona"),
    ("ES-BI", "Bizkaia"),
    ("ES-CA", "Cádiz"),
    ("ES-GR", "Granada"),
    ("ES-PM", "Illes Balears"),
    ("ES-GC", "Las Palmas"),
    ("ES-M", "Madrid"),
    ("ES-MA", "Málaga"),
    ("ES-MU", "Murcia"),
    ("ES-NA", "Navarra"),
    ("ES-SE", "Sevilla"),
    ("ES-TF", "Santa Cruz de Tenerife"),
    ("ES-V", "Valencia"),
    ("ES-VA", "Valladolid"),
    ("ES-Z", "Zaragoza"),
]
US_STATES = [("FL", "Florida"), ("NY", "New York")]
GROUPS = [(1, "Visitor", "Visitante"), (2, "Guest", "Invitado"), (3, "Customer", "Cliente")]
CARRIERS = [  # id, id_reference, name, url, is_free, delay en, delay es
    (1, 1, "Click and collect", "", 1, "Pick up in-store", "Recogida en tienda"),
    (
        2,
        2,
        "SEUR",
        "https://www.seur.com/livetracking/?segOnlineIdentificador=@",
        0,
        "Delivery next day!",
        "¡Entrega al día siguiente!",
    ),
    (3, 3, "Correos Express", "https://s.correosexpress.com/search?s=@", 0, "2-3 days", "2-3 días"),
]
# id, PS_OS_* keys, en name, es name, flags (invoice, send_email, logable, delivery, shipped, paid, pdf_invoice,
# pdf_delivery), template, module_name, color -- the 8.2 install data (order_state.xml)
ORDER_STATES = [
    (
        1,
        ["PS_OS_CHEQUE"],
        "Awaiting check payment",
        "En espera de pago por cheque",
        (0, 1, 0, 0, 0, 0, 0, 0),
        "cheque",
        "ps_checkpayment",
        "#34209E",
    ),
    (2, ["PS_OS_PAYMENT"], "Payment accepted", "Pago aceptado", (1, 1, 1, 0, 0, 1, 1, 0), "payment", None, "#3498D8"),
    (
        3,
        ["PS_OS_PREPARATION"],
        "Processing in progress",
        "Preparación en curso",
        (1, 1, 1, 1, 0, 1, 0, 0),
        "preparation",
        None,
        "#3498D8",
    ),
    (4, ["PS_OS_SHIPPING"], "Shipped", "Enviado", (1, 1, 1, 1, 1, 1, 0, 0), "shipped", None, "#01b887"),
    (5, ["PS_OS_DELIVERED"], "Delivered", "Entregado", (1, 0, 1, 1, 1, 1, 0, 0), "", None, "#01b887"),
    (6, ["PS_OS_CANCELED"], "Canceled", "Cancelado", (0, 1, 0, 0, 0, 0, 0, 0), "order_canceled", None, "#2C3E50"),
    (7, ["PS_OS_REFUND"], "Refunded", "Reembolsado", (1, 1, 0, 0, 0, 0, 0, 0), "refund", None, "#ec2e15"),
    (
        8,
        ["PS_OS_ERROR"],
        "Payment error",
        "Error en el pago",
        (0, 1, 0, 0, 0, 0, 0, 0),
        "payment_error",
        None,
        "#ec2e15",
    ),
    (
        9,
        ["PS_OS_OUTOFSTOCK", "PS_OS_OUTOFSTOCK_PAID"],
        "On backorder (paid)",
        "Pedido pendiente por falta de stock (pagado)",
        (1, 1, 0, 0, 0, 1, 0, 0),
        "outofstock",
        None,
        "#3498D8",
    ),
    (
        10,
        ["PS_OS_BANKWIRE"],
        "Awaiting bank wire payment",
        "En espera de pago por transferencia bancaria",
        (0, 1, 0, 0, 0, 0, 0, 0),
        "bankwire",
        "ps_wirepayment",
        "#34209E",
    ),
    (
        11,
        ["PS_OS_WS_PAYMENT"],
        "Remote payment accepted",
        "Pago remoto aceptado",
        (1, 1, 1, 0, 0, 1, 0, 0),
        "payment",
        None,
        "#3498D8",
    ),
    (
        12,
        ["PS_OS_OUTOFSTOCK_UNPAID"],
        "On backorder (not paid)",
        "Pedido pendiente por falta de stock (no pagado)",
        (0, 1, 0, 0, 0, 0, 0, 0),
        "outofstock",
        None,
        "#34209E",
    ),
    (
        13,
        ["PS_OS_COD_VALIDATION"],
        "Awaiting Cash On Delivery validation",
        "En espera de validación por contra reembolso",
        (0, 0, 0, 0, 0, 0, 0, 0),
        "cashondelivery",
        "ps_cashondelivery",
        "#34209E",
    ),
]
STOCK_REASONS = [  # id, sign, en name, config key
    (1, 1, "Increase", "PS_STOCK_MVT_INC_REASON_DEFAULT"),
    (2, -1, "Decrease", "PS_STOCK_MVT_DEC_REASON_DEFAULT"),
    (3, -1, "Customer Order", "PS_STOCK_CUSTOMER_ORDER_REASON"),
    (4, -1, "Regulation following an inventory of stock", None),
    (5, 1, "Regulation following an inventory of stock", None),
    (6, -1, "Transfer to another warehouse", None),
    (7, 1, "Transfer from another warehouse", None),
    (8, 1, "Supply Order", None),
    (9, 1, "Customer Order", "PS_STOCK_CUSTOMER_ORDER_CANCEL_REASON"),
    (10, 1, "Product return", "PS_STOCK_CUSTOMER_RETURN_REASON"),
    (11, 1, "Employee Edition", "PS_STOCK_MVT_INC_EMPLOYEE_EDITION"),
    (12, -1, "Employee Edition", "PS_STOCK_MVT_DEC_EMPLOYEE_EDITION"),
]
TAXES = [
    (1, Decimal("21.000"), "IVA ES 21%", "ES Standard Rate (21%)"),
    (2, Decimal("10.000"), "IVA ES 10%", "ES Reduced Rate (10%)"),
    (3, Decimal("4.000"), "IVA ES 4%", "ES Super Reduced Rate (4%)"),
]
CONFIG = {  # global configuration rows (install defaults, Spanish localisation)
    "PS_SHOP_DEFAULT": "1",
    "PS_LANG_DEFAULT": "2",
    "PS_CURRENCY_DEFAULT": "1",
    "PS_COUNTRY_DEFAULT": "6",
    "PS_TIMEZONE": "Europe/Madrid",
    "PS_SHOP_NAME": "Tienda Sandbox",
    "PS_SHOP_EMAIL": "tienda@example.com",
    "PS_GUEST_CHECKOUT_ENABLED": "1",
    "PS_UNIDENTIFIED_GROUP": "1",
    "PS_GUEST_GROUP": "2",
    "PS_CUSTOMER_GROUP": "3",
    "PS_INVOICE": "1",
    "PS_INVOICE_START_NUMBER": "",
    "PS_INVOICE_RESET": "0",
    "PS_INVOICE_USE_YEAR": "0",
    "PS_INVOICE_YEAR_POS": "0",
    "PS_INVOICE_MODEL": "invoice",
    "PS_DELIVERY_NUMBER": "1",
    "PS_STOCK_MANAGEMENT": "1",
    "PS_ORDER_OUT_OF_STOCK": "0",
    "PS_ADVANCED_STOCK_MANAGEMENT": "0",
    "PS_ENABLE_BACKORDER_STATUS": "0",
    "PS_STOCK_MVT_REASON_DEFAULT": "3",
    "PS_TAX": "1",
    "PS_TAX_ADDRESS_TYPE": "id_address_delivery",
    "PS_PRICE_ROUND_MODE": "2",
    "PS_ROUND_TYPE": "2",
    "PS_HOME_CATEGORY": "2",
    "PS_ROOT_CATEGORY": "1",
    "PS_CARRIER_DEFAULT": "2",
    "PS_WEIGHT_UNIT": "kg",
    "PS_PACK_STOCK_TYPE": "0",
    "PS_MULTISHOP_FEATURE_ACTIVE": "0",
}
CONFIG_LANG = {"PS_INVOICE_PREFIX": ("#IN", "#FA"), "PS_DELIVERY_PREFIX": ("#DE", "#AL")}

CATEGORIES = [  # id, parent, depth, en, es
    (1, 0, 0, "Root", "Raíz"),
    (2, 1, 1, "Home", "Inicio"),
    (3, 2, 2, "Clothes", "Ropa"),
    (4, 2, 2, "Accessories", "Accesorios"),
    (5, 2, 2, "Stationery", "Papelería"),
    (6, 2, 2, "Food", "Alimentación"),
]
ATTRIBUTE_GROUPS = [(1, 0, "select", "Size", "Talla"), (2, 1, "color", "Color", "Color")]
ATTRIBUTES = [  # id, group, color, en, es
    (1, 1, "", "S", "S"),
    (2, 1, "", "M", "M"),
    (3, 1, "", "L", "L"),
    (4, 1, "", "XL", "XL"),
    (5, 1, "", "38", "38"),
    (6, 1, "", "40", "40"),
    (7, 1, "", "42", "42"),
    (8, 2, "#ffffff", "White", "Blanco"),
    (9, 2, "#000000", "Black", "Negro"),
    (10, 2, "#E84C3D", "Red", "Rojo"),
    (11, 2, "#5D9CEC", "Blue", "Azul"),
]
# reference (FactuSOL CODART), category, tax group, price tax excl, cost, weight, ean13, en, es,
# combinations [(size id, color id, quantity, price impact)], quantity for simple products
DEMO_PRODUCTS = [
    (
        "CAM001",
        3,
        1,
        "12.396694",
        "4.10",
        "0.200",
        "8412345000016",
        "Basic T-shirt",
        "Camiseta básica",
        [(1, 8, 10, "0"), (2, 8, 12, "0"), (3, 8, 8, "0"), (1, 9, 5, "0"), (2, 9, 7, "0"), (3, 9, 0, "0")],
        0,
    ),
    (
        "SUD002",
        3,
        1,
        "28.925620",
        "11.00",
        "0.600",
        "8412345000023",
        "Hooded sweatshirt",
        "Sudadera con capucha",
        [(1, 0, 4, "0"), (2, 0, 6, "0"), (3, 0, 3, "0"), (4, 0, 2, "2.066116")],
        0,
    ),
    (
        "PAN004",
        3,
        1,
        "35.500000",
        "14.20",
        "0.700",
        "8412345000030",
        "Jeans",
        "Pantalón vaquero",
        [(5, 11, 3, "0"), (6, 11, 5, "0"), (7, 11, 4, "0")],
        0,
    ),
    (
        "GOR003",
        4,
        1,
        "9.900000",
        "3.00",
        "0.100",
        "8412345000047",
        "Cap",
        "Gorra",
        [(0, 10, 9, "0"), (0, 11, 11, "0")],
        0,
    ),
    ("TAZ010", 4, 1, "7.438017", "2.10", "0.350", "8412345000054", "Ceramic mug", "Taza de cerámica", [], 25),
    ("CUA040", 5, 1, "3.250000", "0.90", "0.150", "8412345000061", "A5 notebook", "Cuaderno A5", [], 40),
    ("LIB020", 5, 3, "18.269231", "9.50", "0.450", "8412345000078", "Cookbook", "Libro de cocina", [], 6),
    ("CAF030", 6, 2, "4.500000", "2.20", "0.250", "8412345000085", "Ground coffee 250 g", "Café molido 250 g", [], 60),
]
# firstname, lastname, email, company, guest, addresses [(alias, street, postcode, city, province iso, country iso,
# phone, dni, vat_number)]
DEMO_CUSTOMERS = [
    (
        "María",
        "García López",
        "maria.garcia@example.com",
        "",
        0,
        [("Casa", "Calle Mayor 10, 2º B", "28013", "Madrid", "ES-M", "ES", "612345678", "12345678Z", "")],
    ),
    (
        "Jordi",
        "Puig Serra",
        "compras@puigserra.example.com",
        "Puig Serra SL",
        0,
        [
            (
                "Oficina",
                "Carrer de Balmes 155",
                "08008",
                "Barcelona",
                "ES-B",
                "ES",
                "934567890",
                "B12345674",
                "ESB12345674",
            ),
            (
                "Almacén",
                "Polígono Can Roca, nave 4",
                "08100",
                "Mollet del Vallès",
                "ES-B",
                "ES",
                "935551234",
                "B12345674",
                "ESB12345674",
            ),
        ],
    ),
    (
        "Lucía",
        "Fernández",
        "lucia.f@example.com",
        "",
        1,
        [
            (
                "Mi dirección",
                "Avenida de la Constitución 3",
                "41004",
                "Sevilla",
                "ES-SE",
                "ES",
                "654321987",
                "87654321X",
                "",
            )
        ],
    ),
    (
        "Pierre",
        "Martin",
        "pierre.martin@example.fr",
        "",
        0,
        [("Domicile", "12 rue de Rivoli", "75001", "Paris", "", "FR", "0102030405", "", "")],
    ),
]
# customer index, address index, carrier, state id, [(product ref, size id, color id, qty)], tracking, invoiced
DEMO_ORDERS = [
    (0, 0, 2, 2, [("CAM001", 2, 8, 2), ("TAZ010", 0, 0, 1)], "", True),
    (1, 0, 3, 10, [("SUD002", 3, 0, 3), ("CUA040", 0, 0, 10)], "", False),
    (2, 0, 2, 4, [("PAN004", 6, 11, 1), ("CAF030", 0, 0, 2)], "SEU1234567890", True),
    (0, 0, 2, 6, [("GOR003", 0, 10, 1)], "", False),
    (3, 0, 3, 1, [("LIB020", 0, 0, 1)], "", False),
]


def _ts(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _insert(cur, prefix: str, table: str, row: dict) -> int:
    cols = ", ".join(f"`{c}`" for c in row)
    cur.execute(f"INSERT INTO `{prefix}{table}` ({cols}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values()))
    return cur.lastrowid


def _many(cur, prefix: str, table: str, rows: list[dict]) -> None:
    if rows:
        cols = ", ".join(f"`{c}`" for c in rows[0])
        cur.executemany(
            f"INSERT INTO `{prefix}{table}` ({cols}) VALUES ({', '.join(['%s'] * len(rows[0]))})",
            [list(r.values()) for r in rows],
        )


def _slug(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split()) or "item"


def _seed_base(cur, p: str, version: str) -> None:
    _insert(
        cur,
        p,
        "shop_group",
        dict(
            id_shop_group=1,
            name="Default",
            color="",
            share_customer=0,
            share_order=0,
            share_stock=0,
            active=1,
            deleted=0,
        ),
    )
    _insert(
        cur,
        p,
        "shop",
        dict(
            id_shop=1,
            id_shop_group=1,
            name="Tienda Sandbox",
            color="",
            id_category=2,
            theme_name="classic",
            active=1,
            deleted=0,
        ),
    )
    _insert(
        cur,
        p,
        "shop_url",
        dict(id_shop=1, domain="localhost", domain_ssl="localhost", physical_uri="/", virtual_uri="", main=1, active=1),
    )
    for lang in LANGS:
        _insert(
            cur,
            p,
            "lang",
            dict(
                zip(
                    ("id_lang", "name", "iso_code", "language_code", "locale", "date_format_lite", "date_format_full"),
                    lang,
                ),
                active=1,
                is_rtl=0,
            ),
        )
        _insert(cur, p, "lang_shop", dict(id_lang=lang[0], id_shop=1))
    for id_zone, name in ZONES:
        _insert(cur, p, "zone", dict(id_zone=id_zone, name=name, active=1))
    _insert(
        cur,
        p,
        "currency",
        dict(
            id_currency=1,
            name="Euro",
            iso_code="EUR",
            numeric_iso_code="978",
            precision=2,
            conversion_rate=1,
            deleted=0,
            active=1,
            unofficial=0,
            modified=0,
        ),
    )
    _insert(cur, p, "currency_shop", dict(id_currency=1, id_shop=1, conversion_rate=1))
    for id_lang in (1, 2):
        _insert(
            cur,
            p,
            "currency_lang",
            dict(id_currency=1, id_lang=id_lang, name="Euro" if id_lang == 1 else "euro", symbol="€", pattern=""),
        )
    for cid, zone, iso, call, states, need_id, zipf, en, es in COUNTRIES:
        _insert(
            cur,
            p,
            "country",
            dict(
                id_country=cid,
                id_zone=zone,
                id_currency=0,
                iso_code=iso,
                call_prefix=call,
                active=1,
                contains_states=states,
                need_identification_number=need_id,
                need_zip_code=1,
                zip_code_format=zipf,
                display_tax_label=1,
            ),
        )
        _insert(cur, p, "country_shop", dict(id_country=cid, id_shop=1))
        _many(
            cur, p, "country_lang", [dict(id_country=cid, id_lang=1, name=en), dict(id_country=cid, id_lang=2, name=es)]
        )
    _many(
        cur,
        p,
        "state",
        [dict(id_country=6, id_zone=1, name=name, iso_code=iso, tax_behavior=0, active=1) for iso, name in ES_PROVINCES]
        + [
            dict(id_country=21, id_zone=2, name=name, iso_code=iso, tax_behavior=0, active=1) for iso, name in US_STATES
        ],
    )
    for gid, en, es in GROUPS:
        _insert(
            cur,
            p,
            "group",
            dict(id_group=gid, reduction=0, price_display_method=0, show_prices=1, date_add=T0, date_upd=T0),
        )
        _many(cur, p, "group_lang", [dict(id_group=gid, id_lang=1, name=en), dict(id_group=gid, id_lang=2, name=es)])
    for tid, rate, name, group_name in TAXES:
        _insert(cur, p, "tax", dict(id_tax=tid, rate=rate, active=1, deleted=0))
        _many(cur, p, "tax_lang", [dict(id_tax=tid, id_lang=l, name=name) for l in (1, 2)])
        _insert(
            cur,
            p,
            "tax_rules_group",
            dict(id_tax_rules_group=tid, name=group_name, active=1, deleted=0, date_add=T0, date_upd=T0),
        )
        _insert(cur, p, "tax_rules_group_shop", dict(id_tax_rules_group=tid, id_shop=1))
        # like the Spanish localisation pack: one rule per country (intra-EU B2C sales charge Spanish VAT)
        _many(
            cur,
            p,
            "tax_rule",
            [
                dict(
                    id_tax_rules_group=tid,
                    id_country=c[0],
                    id_state=0,
                    zipcode_from="0",
                    zipcode_to="0",
                    id_tax=tid,
                    behavior=0,
                    description="",
                )
                for c in COUNTRIES
            ],
        )
    for cid, ref, name, url, free, d_en, d_es in CARRIERS:
        row = dict(
            id_carrier=cid,
            id_reference=ref,
            name=name,
            url=url,
            active=1,
            deleted=0,
            shipping_handling=0,
            range_behavior=0,
            is_module=0,
            is_free=free,
            shipping_external=0,
            need_range=0,
            external_module_name="",
            shipping_method=2,
            position=cid - 1,
            max_width=0,
            max_height=0,
            max_depth=0,
            max_weight=0,
            grade=0,
        )
        if version == "1.7.8":
            row["id_tax_rules_group"] = 1
        _insert(cur, p, "carrier", row)
        _insert(cur, p, "carrier_shop", dict(id_carrier=cid, id_shop=1))
        _insert(cur, p, "carrier_tax_rules_group_shop", dict(id_carrier=cid, id_tax_rules_group=1, id_shop=1))
        _many(cur, p, "carrier_zone", [dict(id_carrier=cid, id_zone=z[0]) for z in ZONES])
        _many(
            cur,
            p,
            "carrier_lang",
            [
                dict(id_carrier=cid, id_shop=1, id_lang=1, delay=d_en),
                dict(id_carrier=cid, id_shop=1, id_lang=2, delay=d_es),
            ],
        )
    config = dict(CONFIG, PS_VERSION_DB=version_string(version), PS_INSTALL_VERSION=version_string(version))
    for sid, keys, en, es, flags, template, module, color in ORDER_STATES:
        invoice, send_email, logable, delivery, shipped, paid, pdf_inv, pdf_del = flags
        _insert(
            cur,
            p,
            "order_state",
            dict(
                id_order_state=sid,
                invoice=invoice,
                send_email=send_email,
                module_name=module,
                color=color,
                unremovable=1,
                hidden=0,
                logable=logable,
                delivery=delivery,
                shipped=shipped,
                paid=paid,
                pdf_invoice=pdf_inv,
                pdf_delivery=pdf_del,
                deleted=0,
            ),
        )
        _many(
            cur,
            p,
            "order_state_lang",
            [
                dict(id_order_state=sid, id_lang=1, name=en, template=template),
                dict(id_order_state=sid, id_lang=2, name=es, template=template),
            ],
        )
        for key in keys:
            config[key] = str(sid)
    for rid, sign, name, key in STOCK_REASONS:
        _insert(
            cur, p, "stock_mvt_reason", dict(id_stock_mvt_reason=rid, sign=sign, date_add=T0, date_upd=T0, deleted=0)
        )
        _many(cur, p, "stock_mvt_reason_lang", [dict(id_stock_mvt_reason=rid, id_lang=l, name=name) for l in (1, 2)])
        if key:
            config[key] = str(rid)
    for name, value in config.items():
        # install rows carry zero dates, like a real shop (the reader must cope)
        _insert(cur, p, "configuration", dict(name=name, value=value, date_add=ZERO, date_upd=ZERO))
    for name, (en, es) in CONFIG_LANG.items():
        cid = _insert(cur, p, "configuration", dict(name=name, value=None, date_add=T0, date_upd=T0))
        _many(
            cur,
            p,
            "configuration_lang",
            [
                dict(id_configuration=cid, id_lang=1, value=en, date_upd=T0),
                dict(id_configuration=cid, id_lang=2, value=es, date_upd=T0),
            ],
        )
    for cid, parent, depth, en, es in CATEGORIES:
        _insert(
            cur,
            p,
            "category",
            dict(
                id_category=cid,
                id_parent=parent,
                id_shop_default=1,
                level_depth=depth,
                nleft=0,
                nright=0,
                active=1,
                date_add=T0,
                date_upd=T0,
                position=cid,
                is_root_category=1 if cid == 2 else 0,
            ),
        )
        _insert(cur, p, "category_shop", dict(id_category=cid, id_shop=1, position=cid))
        _many(cur, p, "category_group", [dict(id_category=cid, id_group=g) for g in (1, 2, 3)])
        _many(
            cur,
            p,
            "category_lang",
            [
                dict(id_category=cid, id_shop=1, id_lang=1, name=en, link_rewrite=_slug(en)),
                dict(id_category=cid, id_shop=1, id_lang=2, name=es, link_rewrite=_slug(es)),
            ],
        )
    for gid, is_color, gtype, en, es in ATTRIBUTE_GROUPS:
        _insert(
            cur,
            p,
            "attribute_group",
            dict(id_attribute_group=gid, is_color_group=is_color, group_type=gtype, position=gid - 1),
        )
        _insert(cur, p, "attribute_group_shop", dict(id_attribute_group=gid, id_shop=1))
        _many(
            cur,
            p,
            "attribute_group_lang",
            [
                dict(id_attribute_group=gid, id_lang=1, name=en, public_name=en),
                dict(id_attribute_group=gid, id_lang=2, name=es, public_name=es),
            ],
        )
    for aid, gid, color, en, es in ATTRIBUTES:
        _insert(cur, p, "attribute", dict(id_attribute=aid, id_attribute_group=gid, color=color, position=aid))
        _insert(cur, p, "attribute_shop", dict(id_attribute=aid, id_shop=1))
        _many(
            cur,
            p,
            "attribute_lang",
            [dict(id_attribute=aid, id_lang=1, name=en), dict(id_attribute=aid, id_lang=2, name=es)],
        )


def version_string(version: str) -> str:
    return (
        "1.7.8.11"
        if schema.normalise_version(version) == "1.7.8"
        else (version if version.count(".") >= 2 else "8.2.1")
    )


def _add_product(
    cur,
    p: str,
    version: str,
    ref: str,
    cat: int,
    tax_group: int,
    price: str,
    cost: str,
    weight: str,
    ean: str,
    en: str,
    es: str,
    combos: list,
    qty: int,
    minute: int,
) -> tuple[int, dict]:
    when = _ts(minute)
    product_type = "combinations" if combos else "standard"
    common = dict(
        id_category_default=cat,
        id_tax_rules_group=tax_group,
        price=Decimal(price),
        wholesale_price=Decimal(cost),
        active=1,
        redirect_type="default" if version == "8" else "404",
        available_for_order=1,
        show_price=1,
        indexed=1,
        visibility="both",
        date_add=when,
        date_upd=when,
        available_date="0000-00-00",
    )
    if version != "8":
        common["redirect_type"] = "404"
    pid = _insert(
        cur,
        p,
        "product",
        dict(
            common,
            id_shop_default=1,
            reference=ref,
            ean13=ean,
            weight=Decimal(weight),
            quantity=0,
            product_type=product_type,
            state=1,
        ),
    )
    _insert(
        cur,
        p,
        "product_shop",
        dict(common, id_product=pid, id_shop=1, **({} if version == "8" else {"redirect_type": ""})),
    )
    _many(
        cur,
        p,
        "product_lang",
        [
            dict(
                id_product=pid,
                id_shop=1,
                id_lang=1,
                name=en,
                link_rewrite=_slug(en),
                description=f"<p>{en}.</p>",
                description_short=f"<p>{en}</p>",
            ),
            dict(
                id_product=pid,
                id_shop=1,
                id_lang=2,
                name=es,
                link_rewrite=_slug(es),
                description=f"<p>{es}.</p>",
                description_short=f"<p>{es}</p>",
            ),
        ],
    )
    cur.execute(f"SELECT COALESCE(MAX(position) + 1, 0) FROM `{p}category_product` WHERE id_category = %s", (cat,))
    _insert(cur, p, "category_product", dict(id_category=cat, id_product=pid, position=cur.fetchone()[0]))
    pa_ids: dict = {}
    for i, (size, color, cqty, impact) in enumerate(combos):
        # FactuSOL-style variant code: article code + talla + color (CE1/CE2)
        suffix = "-".join(a[4][:3].upper() for a in ATTRIBUTES if a[0] in (size, color))
        row = dict(
            id_product=pid,
            reference=f"{ref}-{suffix}" if suffix else ref,
            price=Decimal(impact),
            wholesale_price=0,
            default_on=1 if i == 0 else None,
            minimal_quantity=1,
            available_date="0000-00-00",
        )
        if version == "1.7.8":
            row.update(quantity=cqty, location="")
        pa = _insert(cur, p, "product_attribute", row)
        _insert(
            cur,
            p,
            "product_attribute_shop",
            dict(
                id_product=pid,
                id_product_attribute=pa,
                id_shop=1,
                price=Decimal(impact),
                default_on=1 if i == 0 else None,
                minimal_quantity=1,
                available_date="0000-00-00",
            ),
        )
        _many(
            cur,
            p,
            "product_attribute_combination",
            [dict(id_attribute=a, id_product_attribute=pa) for a in (size, color) if a],
        )
        if version == "8":
            _many(
                cur,
                p,
                "product_attribute_lang",
                [dict(id_product_attribute=pa, id_lang=l, available_now="", available_later="") for l in (1, 2)],
            )
        _insert(
            cur,
            p,
            "stock_available",
            dict(
                id_product=pid,
                id_product_attribute=pa,
                id_shop=1,
                id_shop_group=0,
                quantity=cqty,
                physical_quantity=cqty,
                reserved_quantity=0,
                depends_on_stock=0,
                out_of_stock=2,
                location="",
            ),
        )
        pa_ids[(size, color)] = pa
        if i == 0:
            cur.execute(f"UPDATE `{p}product` SET cache_default_attribute = %s WHERE id_product = %s", (pa, pid))
            cur.execute(f"UPDATE `{p}product_shop` SET cache_default_attribute = %s WHERE id_product = %s", (pa, pid))
    total = sum(c[2] for c in combos) if combos else qty
    _insert(
        cur,
        p,
        "stock_available",
        dict(
            id_product=pid,
            id_product_attribute=0,
            id_shop=1,
            id_shop_group=0,
            quantity=total,
            physical_quantity=total,
            reserved_quantity=0,
            depends_on_stock=0,
            out_of_stock=2,
            location="",
        ),
    )
    return pid, pa_ids


def _add_customer(
    cur,
    p: str,
    first: str,
    last: str,
    email: str,
    company: str,
    guest: int,
    addresses: list,
    minute: int,
    states: dict,
    countries: dict,
) -> tuple[int, list[int]]:
    when = _ts(minute)
    group = 2 if guest else 3
    cid = _insert(
        cur,
        p,
        "customer",
        dict(
            id_shop_group=1,
            id_shop=1,
            id_gender=0,
            id_default_group=group,
            id_lang=2,
            id_risk=0,
            company=company or None,
            firstname=first,
            lastname=last,
            email=email,
            passwd="$2y$10$" + ("x" * 53),
            last_passwd_gen=when,
            birthday="0000-00-00",
            newsletter=0,
            optin=0,
            secure_key=f"{cid_key(email)}",
            active=1,
            is_guest=guest,
            deleted=0,
            date_add=when,
            date_upd=when,
            newsletter_date_add=ZERO,
            outstanding_allow_amount=0,
            show_public_prices=0,
            max_payment_days=0,
        ),
    )
    _insert(cur, p, "customer_group", dict(id_customer=cid, id_group=group))
    ids = []
    for alias, street, postcode, city, prov, country, phone, dni, vat in addresses:
        ids.append(
            _insert(
                cur,
                p,
                "address",
                dict(
                    id_country=countries[country],
                    id_state=states.get(prov, 0),
                    id_customer=cid,
                    alias=alias,
                    company=company or None,
                    lastname=last,
                    firstname=first,
                    address1=street,
                    postcode=postcode,
                    city=city,
                    phone=phone,
                    phone_mobile="",
                    vat_number=vat or None,
                    dni=dni or None,
                    date_add=when,
                    date_upd=when,
                    active=1,
                    deleted=0,
                ),
            )
        )
    return cid, ids


def cid_key(email: str) -> str:
    import hashlib

    return hashlib.md5(email.encode()).hexdigest()


def _add_order(
    cur,
    p: str,
    n: int,
    customer: tuple,
    address_id: int,
    carrier: int,
    state: int,
    lines: list,
    tracking: str,
    invoiced: bool,
    products: dict,
    minute: int,
    secure_key: str,
) -> int:
    when = _ts(minute)
    rate_of = {1: Decimal("21"), 2: Decimal("10"), 3: Decimal("4")}
    detail_rows, total_excl, total_incl = [], Decimal(0), Decimal(0)
    for ref, size, color, qty in lines:
        pid, pa_ids, price, tax_group, name, combos = products[ref]
        pa = pa_ids.get((size, color), 0)
        impact = next((Decimal(c[3]) for c in combos if (c[0], c[1]) == (size, color)), Decimal(0))
        unit_excl = (Decimal(price) + impact).quantize(Decimal("0.000001"))
        rate = rate_of[tax_group]
        unit_incl = (unit_excl * (1 + rate / 100)).quantize(Decimal("0.000001"))
        line_excl, line_incl = (unit_excl * qty).quantize(Decimal("0.01")), (unit_incl * qty).quantize(Decimal("0.01"))
        total_excl += line_excl
        total_incl += line_incl
        label = name
        attrs = [a for a in ATTRIBUTES if a[0] in (size, color)]
        if attrs:
            label += " - " + ", ".join(f"{ATTRIBUTE_GROUPS[a[1] - 1][3]} : {a[3]}" for a in attrs)
        detail_rows.append((pid, pa, ref, label, qty, unit_excl, unit_incl, line_excl, line_incl, tax_group, rate))
    ship_excl = Decimal("0") if carrier == 1 else Decimal("4.958678")
    ship_incl = (ship_excl * Decimal("1.21")).quantize(Decimal("0.01"))
    paid_total = total_incl + ship_incl
    reference = "".join(chr(65 + (n * 7 + i * 3) % 26) for i in range(9))
    cid, _ = customer
    id_cart = _insert(
        cur,
        p,
        "cart",
        dict(
            id_shop_group=1,
            id_shop=1,
            id_carrier=carrier,
            delivery_option="",
            id_lang=2,
            id_address_delivery=address_id,
            id_address_invoice=address_id,
            id_currency=1,
            id_customer=cid,
            id_guest=0,
            secure_key=secure_key,
            recyclable=0,
            gift=0,
            mobile_theme=0,
            allow_seperated_package=0,
            date_add=when,
            date_upd=when,
        ),
    )
    oid = _insert(
        cur,
        p,
        "orders",
        dict(
            reference=reference,
            id_shop_group=1,
            id_shop=1,
            id_carrier=carrier,
            id_lang=2,
            id_customer=cid,
            id_cart=id_cart,
            id_currency=1,
            id_address_delivery=address_id,
            id_address_invoice=address_id,
            current_state=state,
            secure_key=secure_key,
            payment="Transferencia bancaria" if state == 10 else ("Cheque" if state == 1 else "Tarjeta"),
            conversion_rate=1,
            module="ps_wirepayment" if state == 10 else ("ps_checkpayment" if state == 1 else "ps_checkout"),
            recyclable=0,
            gift=0,
            mobile_theme=0,
            total_discounts=0,
            total_discounts_tax_incl=0,
            total_discounts_tax_excl=0,
            total_paid=paid_total,
            total_paid_tax_incl=paid_total,
            total_paid_tax_excl=total_excl + ship_excl,
            total_paid_real=0,
            total_products=total_excl,
            total_products_wt=total_incl,
            total_shipping=ship_incl,
            total_shipping_tax_incl=ship_incl,
            total_shipping_tax_excl=ship_excl,
            carrier_tax_rate=Decimal("21"),
            total_wrapping=0,
            total_wrapping_tax_incl=0,
            total_wrapping_tax_excl=0,
            round_mode=2,
            round_type=2,
            invoice_number=0,
            delivery_number=0,
            invoice_date=ZERO,
            delivery_date=ZERO,
            valid=1 if state in (2, 3, 4, 5, 11) else 0,
            date_add=when,
            date_upd=when,
        ),
    )
    for pid, pa, ref, label, qty, ue, ui, le, li, tax_group, _rate in detail_rows:
        _insert(
            cur,
            p,
            "cart_product",
            dict(
                id_cart=id_cart,
                id_product=pid,
                id_address_delivery=address_id,
                id_shop=1,
                id_product_attribute=pa,
                id_customization=0,
                quantity=qty,
                date_add=when,
            ),
        )
        odid = _insert(
            cur,
            p,
            "order_detail",
            dict(
                id_order=oid,
                id_order_invoice=0,
                id_warehouse=0,
                id_shop=1,
                product_id=pid,
                product_attribute_id=pa,
                id_customization=0,
                product_name=label,
                product_quantity=qty,
                product_quantity_in_stock=qty,
                product_quantity_refunded=0,
                product_quantity_return=0,
                product_quantity_reinjected=0,
                product_price=ue,
                reduction_percent=0,
                reduction_amount=0,
                reduction_amount_tax_incl=0,
                reduction_amount_tax_excl=0,
                group_reduction=0,
                product_quantity_discount=0,
                product_ean13="",
                product_reference=ref,
                product_supplier_reference="",
                product_weight=0,
                id_tax_rules_group=tax_group,
                tax_computation_method=0,
                tax_name="",
                tax_rate=0,
                ecotax=0,
                ecotax_tax_rate=0,
                discount_quantity_applied=0,
                download_hash="",
                download_nb=0,
                download_deadline=ZERO,
                total_price_tax_incl=li,
                total_price_tax_excl=le,
                unit_price_tax_incl=ui,
                unit_price_tax_excl=ue,
                total_shipping_price_tax_incl=0,
                total_shipping_price_tax_excl=0,
                purchase_supplier_price=0,
                original_product_price=ue,
                original_wholesale_price=0,
                total_refunded_tax_excl=0,
                total_refunded_tax_incl=0,
            ),
        )
        _insert(
            cur,
            p,
            "order_detail_tax",
            dict(id_order_detail=odid, id_tax=tax_group, unit_amount=ui - ue, total_amount=li - le),
        )
        if state not in (6, 8):  # stock was taken at order creation (given back on cancel)
            for a in {pa, 0}:
                cur.execute(
                    f"UPDATE `{p}stock_available` SET quantity = quantity - %s WHERE id_product = %s AND"
                    f" id_product_attribute = %s AND id_shop = 1",
                    (qty, pid, a),
                )
    _insert(
        cur,
        p,
        "order_carrier",
        dict(
            id_order=oid,
            id_carrier=carrier,
            id_order_invoice=0,
            weight=0,
            shipping_cost_tax_excl=ship_excl,
            shipping_cost_tax_incl=ship_incl,
            tracking_number=tracking or None,
            date_add=when,
        ),
    )
    history = {2: [2], 4: [2, 3, 4], 6: [1, 6], 10: [10], 1: [1]}.get(state, [state])
    for i, s in enumerate(history):
        _insert(
            cur,
            p,
            "order_history",
            dict(id_employee=0, id_order=oid, id_order_state=s, date_add=when + timedelta(minutes=i)),
        )
    return oid


def create_shop(
    mysql_url: str,
    database: str,
    demo: bool = False,
    products: int = 0,
    customers: int = 0,
    prefix: str = "ps_",
    version: str = "8.2.1",
) -> str:
    """Create ``database`` (dropped first if it exists) on the server of ``mysql_url``, load the schema, seed it.

    Returns the database URL.  ``version`` picks the schema family ('8.2.1', '1.7.8.11', ...).
    """
    if not all(c.isalnum() or c == "_" for c in database):
        raise ValueError("database name may only contain letters, digits and '_'")
    family = schema.normalise_version(version)
    server_url = mysql_url.rsplit("/", 1)[0] + "/" if parse_mysql_url(mysql_url).get("database") else mysql_url
    admin = connect(server_url)
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    finally:
        admin.close()
    url = server_url.rstrip("/") + "/" + database
    conn = connect(url)
    try:
        schema.create_schema(conn, family, prefix)
        conn.begin()
        with conn.cursor() as cur:
            _seed_base(cur, prefix, family)
            if family == "8" and version.count(".") >= 1:
                cur.execute(
                    f"UPDATE `{prefix}configuration` SET value = %s WHERE name IN ('PS_VERSION_DB',"
                    " 'PS_INSTALL_VERSION')",
                    (version_string(version),),
                )
            cur.execute(f"SELECT iso_code, id_state FROM `{prefix}state`")
            states = dict(cur.fetchall())
            countries = {c[2]: c[0] for c in COUNTRIES}
            minute = 0
            catalogue: dict = {}
            if demo:
                for item in DEMO_PRODUCTS:
                    ref, cat, tax_group, price, cost, weight, ean, en, es, combos, qty = item
                    minute += 1
                    pid, pa_ids = _add_product(
                        cur, prefix, family, ref, cat, tax_group, price, cost, weight, ean, en, es, combos, qty, minute
                    )
                    catalogue[ref] = (pid, pa_ids, price, tax_group, es, combos)
            for i in range(products):
                minute += 1
                ref = f"ART{i + 1:05d}"
                price = Decimal(100 + (i * 37) % 9000) / 100
                _add_product(
                    cur,
                    prefix,
                    family,
                    ref,
                    3 + i % 4,
                    1 + i % 3,
                    str(price),
                    str(price / 2),
                    "0.5",
                    "",
                    f"Article {i + 1}",
                    f"Artículo {i + 1}",
                    [],
                    (i * 13) % 50,
                    minute,
                )
            made = []
            if demo:
                for first, last, email, company, guest, addresses in DEMO_CUSTOMERS:
                    minute += 1
                    made.append(
                        (
                            _add_customer(
                                cur, prefix, first, last, email, company, guest, addresses, minute, states, countries
                            ),
                            cid_key(email),
                        )
                    )
            provinces = [iso for iso, _ in ES_PROVINCES]
            for i in range(customers):
                minute += 1
                prov = provinces[i % len(provinces)]
                nif = f"{10000000 + i * 7919:08d}"
                nif += "TRWAGMYFPDXBNJZSQVHLCKE"[int(nif) % 23]
                _add_customer(
                    cur,
                    prefix,
                    f"Cliente{i + 1}",
                    f"Apellido{i + 1}",
                    f"cliente{i + 1}@example.com",
                    "",
                    0,
                    [
                        (
                            "Principal",
                            f"Calle {i + 1}",
                            f"{28000 + i % 900:05d}",
                            "Ciudad",
                            prov,
                            "ES",
                            f"6{i:08d}",
                            nif,
                            "",
                        )
                    ],
                    minute,
                    states,
                    countries,
                )
            if demo:
                for n, (ci, ai, carrier, state, lines, tracking, invoiced) in enumerate(DEMO_ORDERS, start=1):
                    minute += 5
                    (cid, addr_ids), key = made[ci]
                    oid = _add_order(
                        cur,
                        prefix,
                        n,
                        (cid, addr_ids),
                        addr_ids[ai],
                        carrier,
                        state,
                        lines,
                        tracking,
                        invoiced,
                        catalogue,
                        minute,
                        key,
                    )
                    if invoiced:
                        _seed_invoice(cur, prefix, oid, _ts(minute + 2), state)
        conn.commit()
        if demo:
            from replicator.prestashop.write.stock import recompute_reserved

            shop = ShopConnection(url, prefix=prefix, conn=conn)
            with shop.transaction() as cur:
                recompute_reserved(shop, cur)
    except Exception:
        if conn.open:
            conn.rollback()
        raise
    finally:
        conn.close()
    return url


def _seed_invoice(cur, p: str, oid: int, when: datetime, state: int) -> None:
    """The invoice + payment PrestaShop creates when an order enters a paid, invoiced state."""
    cur.execute(
        f"SELECT reference, total_paid_tax_incl, total_paid_tax_excl, total_products, total_products_wt,"
        f" total_shipping_tax_excl, total_shipping_tax_incl, payment FROM `{p}orders` WHERE id_order = %s",
        (oid,),
    )
    ref, paid_incl, paid_excl, prod, prod_wt, ship_excl, ship_incl, payment = cur.fetchone()
    cur.execute(f"SELECT COALESCE(MAX(number), 0) + 1 FROM `{p}order_invoice`")
    number = cur.fetchone()[0]
    inv = _insert(
        cur,
        p,
        "order_invoice",
        dict(
            id_order=oid,
            number=number,
            delivery_number=0,
            delivery_date=ZERO,
            total_discount_tax_excl=0,
            total_discount_tax_incl=0,
            total_paid_tax_excl=paid_excl,
            total_paid_tax_incl=paid_incl,
            total_products=prod,
            total_products_wt=prod_wt,
            total_shipping_tax_excl=ship_excl,
            total_shipping_tax_incl=ship_incl,
            shipping_tax_computation_method=0,
            total_wrapping_tax_excl=0,
            total_wrapping_tax_incl=0,
            shop_address="Tienda Sandbox",
            note="",
            date_add=when,
        ),
    )
    pay = _insert(
        cur,
        p,
        "order_payment",
        dict(
            order_reference=ref,
            id_currency=1,
            amount=paid_incl,
            payment_method=payment,
            conversion_rate=1,
            transaction_id="",
            date_add=when,
        ),
    )
    _insert(cur, p, "order_invoice_payment", dict(id_order_invoice=inv, id_order_payment=pay, id_order=oid))
    cur.execute(f"UPDATE `{p}order_detail` SET id_order_invoice = %s WHERE id_order = %s", (inv, oid))
    cur.execute(f"UPDATE `{p}order_carrier` SET id_order_invoice = %s WHERE id_order = %s", (inv, oid))
    cur.execute(
        f"UPDATE `{p}orders` SET invoice_number = %s, invoice_date = %s, total_paid_real = %s WHERE id_order = %s",
        (number, when, paid_incl, oid),
    )
    if state in (4, 5):  # shipped: delivery slip numbered
        cur.execute(
            f"UPDATE `{p}order_invoice` SET delivery_number = 1, delivery_date = %s WHERE id_order_invoice = %s",
            (when, inv),
        )
        cur.execute(f"UPDATE `{p}orders` SET delivery_number = 1, delivery_date = %s WHERE id_order = %s", (when, oid))


def drop_shop(mysql_url: str, database: str) -> None:
    conn = connect(mysql_url.rsplit("/", 1)[0] + "/" if parse_mysql_url(mysql_url).get("database") else mysql_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        conn.close()


__all__ = ["create_shop", "drop_shop", "version_string"]
