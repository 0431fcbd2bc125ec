"""The stand-in shop's seed data: the reference rows a fresh Spanish install has (languages, countries, provinces,
carriers, order states, taxes, configuration, categories, attributes) and the demo catalogue, customers and orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


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
