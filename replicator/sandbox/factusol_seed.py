"""Realistic, deterministic Spanish seed data for the FactuSOL stand-in, plus the check-character helpers it needs.

``nif_letter``/``make_cif``/``ean13_check_digit`` implement the official algorithms (DNI letter mod 23, CIF control
digit/letter, GS1 EAN-13), and ``build_seed`` returns every table's rows as ``{table: (columns, rows)}`` ready for a
bulk insert.  Same seed and arguments give the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from replicator.factusol.schema import CASH_CUSTOMER_CODE, SURCHARGE_RATE_KEYS, VAT_RATE_KEYS

# --------------------------------------------------------------------------------------------------------------------
# Identity numbers and barcodes

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CIF_CONTROL_LETTERS = "JABCDEFGHI"
CIF_LETTER_ONLY = set("KPQSNW")  # organisation types whose control must be a letter
CIF_DIGIT_ONLY = set("ABEH")  # ... whose control must be a digit
CIF_TYPES = set("ABCDEFGHJKLMNPQRSUVW")


def nif_letter(number: int) -> str:
    """Check letter of a DNI number (0..99999999)."""
    return DNI_LETTERS[number % 23]


def make_nif(number: int) -> str:
    return f"{number:08d}{nif_letter(number)}"


def make_nie(prefix: str, number: int) -> str:
    """NIE: X/Y/Z stand for 0/1/2 in front of the 7 digits when computing the letter."""
    return f"{prefix}{number:07d}{nif_letter(int(str('XYZ'.index(prefix)) + f'{number:07d}'))}"


def cif_control_digit(digits7: str) -> int:
    odd = 0
    for i, ch in enumerate(digits7):
        d = int(ch)
        if i % 2 == 0:  # positions 1,3,5,7 (1-based) are doubled and their digits summed
            d *= 2
            odd += d // 10 + d % 10
        else:
            odd += d
    return (10 - odd % 10) % 10


def make_cif(org_type: str, digits7: str) -> str:
    control = cif_control_digit(digits7)
    tail = CIF_CONTROL_LETTERS[control] if org_type in CIF_LETTER_ONLY else str(control)
    return f"{org_type}{digits7}{tail}"


def is_valid_nif(value: str) -> bool:
    """True for a well-formed DNI/NIE/CIF with a correct check character (ES prefix allowed)."""
    v = value.strip().upper().replace("-", "").replace(" ", "")
    if v.startswith("ES") and len(v) == 11:
        v = v[2:]
    if len(v) != 9:
        return False
    if v[:8].isdigit():
        return v[8] == nif_letter(int(v[:8]))
    if v[0] in "XYZ" and v[1:8].isdigit():
        return v[8] == nif_letter(int(str("XYZ".index(v[0])) + v[1:8]))
    if v[0] in CIF_TYPES and v[1:8].isdigit():
        control = cif_control_digit(v[1:8])
        if v[0] in CIF_LETTER_ONLY:
            return v[8] == CIF_CONTROL_LETTERS[control]
        if v[0] in CIF_DIGIT_ONLY:
            return v[8] == str(control)
        return v[8] in (str(control), CIF_CONTROL_LETTERS[control])
    return False


def ean13_check_digit(first12: str) -> int:
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"EAN-13 needs 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def make_ean13(first12: str) -> str:
    return first12 + str(ean13_check_digit(first12))


def is_valid_ean13(value: str) -> bool:
    return len(value) == 13 and value.isdigit() and ean13_check_digit(value[:12]) == int(value[12])


# --------------------------------------------------------------------------------------------------------------------
# Reference data

# (INE province code == first two postcode digits, province, towns)
PROVINCES: list[tuple[str, str, list[str]]] = [
    ("01", "Álava", ["Vitoria-Gasteiz", "Llodio", "Amurrio"]),
    ("02", "Albacete", ["Albacete", "Hellín", "Villarrobledo"]),
    ("03", "Alicante", ["Alicante", "Elche", "Benidorm", "Alcoy"]),
    ("04", "Almería", ["Almería", "Roquetas de Mar", "El Ejido"]),
    ("06", "Badajoz", ["Badajoz", "Mérida", "Don Benito"]),
    ("07", "Illes Balears", ["Palma", "Ibiza", "Manacor"]),
    ("08", "Barcelona", ["Barcelona", "Terrassa", "Sabadell", "Badalona", "Mataró"]),
    ("09", "Burgos", ["Burgos", "Miranda de Ebro", "Aranda de Duero"]),
    ("10", "Cáceres", ["Cáceres", "Plasencia", "Navalmoral de la Mata"]),
    ("11", "Cádiz", ["Cádiz", "Jerez de la Frontera", "Algeciras"]),
    ("12", "Castellón", ["Castellón de la Plana", "Vila-real", "Burriana"]),
    ("14", "Córdoba", ["Córdoba", "Lucena", "Puente Genil"]),
    ("15", "A Coruña", ["A Coruña", "Santiago de Compostela", "Ferrol"]),
    ("17", "Girona", ["Girona", "Figueres", "Blanes"]),
    ("18", "Granada", ["Granada", "Motril", "Baza"]),
    ("20", "Gipuzkoa", ["Donostia-San Sebastián", "Irun", "Eibar"]),
    ("21", "Huelva", ["Huelva", "Lepe", "Almonte"]),
    ("23", "Jaén", ["Jaén", "Linares", "Úbeda"]),
    ("24", "León", ["León", "Ponferrada", "San Andrés del Rabanedo"]),
    ("25", "Lleida", ["Lleida", "Balaguer", "Tàrrega"]),
    ("26", "La Rioja", ["Logroño", "Calahorra", "Arnedo"]),
    ("27", "Lugo", ["Lugo", "Monforte de Lemos", "Viveiro"]),
    ("28", "Madrid", ["Madrid", "Alcalá de Henares", "Getafe", "Móstoles", "Leganés"]),
    ("29", "Málaga", ["Málaga", "Marbella", "Vélez-Málaga", "Fuengirola"]),
    ("30", "Murcia", ["Murcia", "Cartagena", "Lorca"]),
    ("31", "Navarra", ["Pamplona", "Tudela", "Barañáin"]),
    ("33", "Asturias", ["Oviedo", "Gijón", "Avilés"]),
    ("35", "Las Palmas", ["Las Palmas de Gran Canaria", "Telde", "Arrecife"]),
    ("36", "Pontevedra", ["Vigo", "Pontevedra", "Vilagarcía de Arousa"]),
    ("37", "Salamanca", ["Salamanca", "Béjar", "Ciudad Rodrigo"]),
    ("38", "Santa Cruz de Tenerife", ["Santa Cruz de Tenerife", "San Cristóbal de La Laguna", "Arona"]),
    ("39", "Cantabria", ["Santander", "Torrelavega", "Castro-Urdiales"]),
    ("41", "Sevilla", ["Sevilla", "Dos Hermanas", "Alcalá de Guadaíra"]),
    ("43", "Tarragona", ["Tarragona", "Reus", "Tortosa"]),
    ("45", "Toledo", ["Toledo", "Talavera de la Reina", "Illescas"]),
    ("46", "Valencia", ["Valencia", "Gandia", "Torrent", "Paterna"]),
    ("47", "Valladolid", ["Valladolid", "Medina del Campo", "Laguna de Duero"]),
    ("48", "Bizkaia", ["Bilbao", "Barakaldo", "Getxo"]),
    ("50", "Zaragoza", ["Zaragoza", "Calatayud", "Utebo"]),
]

FIRST_NAMES = [
    "Antonio",
    "José",
    "Manuel",
    "Francisco",
    "David",
    "Juan",
    "Javier",
    "Daniel",
    "Carlos",
    "Alejandro",
    "María",
    "Carmen",
    "Ana",
    "Isabel",
    "Laura",
    "Cristina",
    "Marta",
    "Lucía",
    "Elena",
    "Pilar",
    "Sergio",
    "Pablo",
    "Raquel",
    "Nuria",
    "Begoña",
    "Íñigo",
    "Núria",
    "Jordi",
    "Montserrat",
    "Aitor",
]
SURNAMES = [
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Castaño",
    "Ibáñez",
    "Peña",
    "Núñez",
    "Echeverría",
]
COMPANY_WORDS = [
    "Distribuciones",
    "Comercial",
    "Suministros",
    "Textil",
    "Hostelería",
    "Ferretería",
    "Librería",
    "Papelería",
    "Deportes",
    "Calzados",
    "Electrónica",
    "Decoración",
    "Muebles",
    "Alimentación",
]
COMPANY_SUFFIX = [("S.L.", "B"), ("S.A.", "A"), ("S.L.U.", "B"), ("S.Coop.", "F")]
STREET_TYPES = ["Calle", "Avenida", "Plaza", "Paseo", "Camino", "Ronda", "Travesía"]
STREET_NAMES = [
    "Mayor",
    "de la Constitución",
    "Real",
    "del Carmen",
    "de Cervantes",
    "San Francisco",
    "de España",
    "de Goya",
    "del Sol",
    "de la Paz",
    "Nueva",
    "de Andalucía",
    "de Castilla",
    "del Mar",
    "de Colón",
    "Reyes Católicos",
    "de la Estación",
    "de los Olivos",
    "del Pilar",
    "Gran Vía",
]

SECTIONS = [
    ("ROP", "Ropa"),
    ("CAL", "Calzado"),
    ("HOG", "Hogar"),
    ("ELE", "Electrónica"),
    ("ALI", "Alimentación"),
    ("CUL", "Cultura"),
]
# (code, description, section, VAT selector 0/1/2/3, variants: None / "ropa" / "calzado", price range, name parts)
FAMILIES = [
    (
        "CAM",
        "Camisetas",
        "ROP",
        0,
        "ropa",
        (8, 35),
        ["Camiseta", "Polo", "Top"],
        ["algodón", "técnica", "manga larga", "básica", "estampada"],
    ),
    (
        "PAN",
        "Pantalones",
        "ROP",
        0,
        "ropa",
        (19, 79),
        ["Pantalón", "Vaquero", "Bermuda"],
        ["chino", "slim", "cargo", "recto", "elástico"],
    ),
    (
        "CHA",
        "Chaquetas",
        "ROP",
        0,
        "ropa",
        (35, 150),
        ["Chaqueta", "Cazadora", "Abrigo"],
        ["acolchada", "de punto", "impermeable", "de lana"],
    ),
    (
        "ZAP",
        "Zapatillas",
        "CAL",
        0,
        "calzado",
        (29, 120),
        ["Zapatilla", "Deportiva"],
        ["running", "urbana", "de lona", "trekking"],
    ),
    (
        "BOT",
        "Botas",
        "CAL",
        0,
        "calzado",
        (45, 180),
        ["Bota", "Botín"],
        ["de piel", "de agua", "chelsea", "de montaña"],
    ),
    (
        "MEN",
        "Menaje",
        "HOG",
        0,
        None,
        (3, 60),
        ["Sartén", "Olla", "Cazo", "Juego de cuchillos", "Tabla de cortar"],
        ["inducción", "acero inox.", "antiadherente", "24 cm", "bambú"],
    ),
    (
        "TEX",
        "Textil hogar",
        "HOG",
        0,
        None,
        (6, 90),
        ["Sábana", "Toalla", "Mantel", "Cojín", "Edredón"],
        ["algodón", "150 cm", "lino", "microfibra", "nórdico"],
    ),
    (
        "AUR",
        "Auriculares",
        "ELE",
        0,
        None,
        (9, 250),
        ["Auricular", "Cascos"],
        ["bluetooth", "con cable", "inalámbricos", "gaming"],
    ),
    (
        "CAB",
        "Cables y cargadores",
        "ELE",
        0,
        None,
        (4, 40),
        ["Cable", "Cargador", "Adaptador"],
        ["USB-C", "HDMI 2m", "rápido 20W", "Lightning"],
    ),
    (
        "ACE",
        "Aceites y conservas",
        "ALI",
        1,
        None,
        (2, 45),
        ["Aceite de oliva", "Atún en aceite", "Pimientos del piquillo", "Espárragos"],
        ["virgen extra 1L", "lata 3x80g", "tarro 250g", "5L"],
    ),
    (
        "PAS",
        "Pan y cereales",
        "ALI",
        2,
        None,
        (1, 6),
        ["Pan de molde", "Harina de trigo", "Copos de avena"],
        ["integral", "1kg", "500g", "sin gluten"],
    ),
    (
        "LIB",
        "Libros",
        "CUL",
        2,
        None,
        (9, 45),
        ["Novela", "Guía", "Manual", "Atlas"],
        ["de bolsillo", "ilustrada", "edición tapa dura", "de viaje"],
    ),
    ("TAR", "Tarjetas regalo", "CUL", 3, None, (10, 100), ["Tarjeta regalo"], ["10 €", "25 €", "50 €", "100 €"]),
]
SIZES_CLOTHING = [("S", "Talla S"), ("M", "Talla M"), ("L", "Talla L"), ("XL", "Talla XL")]
SIZES_SHOES = [(str(n), f"Número {n}") for n in range(38, 45)]
COLOURS = [("NEG", "Negro"), ("BLA", "Blanco"), ("AZU", "Azul"), ("ROJ", "Rojo"), ("VER", "Verde"), ("GRI", "Gris")]

WAREHOUSES = [("GEN", "Almacén general"), ("AL2", "Almacén tienda Centro")]
PAYMENT_METHODS = [
    ("TAR", "Tarjeta de crédito"),
    ("TRF", "Transferencia bancaria"),
    ("CON", "Contrareembolso"),
    ("PAY", "PayPal"),
    ("EFE", "Efectivo"),
]
# codes the default order rule maps (cheque, cash on delivery through a carrier); not given to seeded customers
MORE_PAYMENT_METHODS = [("CHQ", "Cheque"), ("CRE", "Contra reembolso (agencia)")]
CARRIERS = [(1, "SEUR"), (2, "MRW"), (3, "Correos Express"), (4, "GLS"), (5, "Nacex")]
TARIFFS = [(1, "Tarifa general (sin IVA)", 0), (2, "PVP tienda (IVA incluido)", 1)]

VAT_RATES = (Decimal("21"), Decimal("10"), Decimal("4"))
SURCHARGE_RATES = (Decimal("5.2"), Decimal("1.4"), Decimal("0.5"))

CASH_CUSTOMER_NAME = "CLIENTE CONTADO WEB"
CENT = Decimal("0.01")


def money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------------------------
# Generators


def _empty_value(table: str, column: str):
    from replicator.factusol.schema import MEMO, NUMERIC_TYPES, TEXT, load_schema

    col = load_schema()[table].column(column)
    if col.type in (TEXT, MEMO):
        return ""
    return 0 if col.type in NUMERIC_TYPES else None


def _address(rng: random.Random) -> tuple[str, str, str, str]:
    """(street, town, postcode, province) with the postcode prefix matching the province."""
    code, province, towns = rng.choice(PROVINCES)
    town = rng.choice(towns)
    postcode = f"{code}{rng.randint(0, 999):03d}"
    street = f"{rng.choice(STREET_TYPES)} {rng.choice(STREET_NAMES)}, {rng.randint(1, 199)}"
    if rng.random() < 0.4:
        street += f", {rng.randint(1, 8)}º {rng.choice('ABCD')}"
    return street, town, postcode, province


def _ascii(s: str) -> str:
    table = str.maketrans("áéíóúüñÁÉÍÓÚÑçÇàèòïl·", "aeiouunAEIOUNcCaeoil.")
    return s.translate(table).lower().replace(" ", "")


def _phone(rng: random.Random, mobile: bool) -> str:
    return f"{rng.choice('67') if mobile else '9'}{rng.randint(10_000_000, 99_999_999)}"


def customer_rows(rng: random.Random, count: int, year: int) -> tuple[list[dict], list[dict]]:
    """F_CLI and F_OBR rows; code 1 is the cash customer for guests."""
    clients, addresses = [], []
    base = datetime(year, 1, 1)
    street, town, postcode, province = "Calle Mayor, 1", "Madrid", "28013", "Madrid"
    clients.append(
        dict(
            CODCLI=CASH_CUSTOMER_CODE,
            NOFCLI=CASH_CUSTOMER_NAME,
            NOCCLI=CASH_CUSTOMER_NAME,
            NIFCLI="",
            DOMCLI=street,
            POBCLI=town,
            CPOCLI=postcode,
            PROCLI=province,
            PAICLI="ESPAÑA",
            FPACLI="TAR",
            TARCLI=1,
            ESTCLI=1,
            DOCCLI=1,
            FALCLI=base,
            FUMCLI=base,
            SUWCLI=1,
        )
    )
    used_nifs: set[str] = set()
    for code in range(2, count + 1):
        street, town, postcode, province = _address(rng)
        company = rng.random() < 0.4
        first, s1, s2 = rng.choice(FIRST_NAMES), rng.choice(SURNAMES), rng.choice(SURNAMES)
        while True:
            if company:
                suffix, letter = rng.choice(COMPANY_SUFFIX)
                nif = make_cif(letter, f"{rng.randint(0, 9_999_999):07d}")
            elif rng.random() < 0.1:
                nif = make_nie(rng.choice("XYZ"), rng.randint(0, 9_999_999))
            else:
                nif = make_nif(rng.randint(10_000_000, 79_999_999))
            if nif not in used_nifs:
                used_nifs.add(nif)
                break
        if company:
            fiscal = f"{rng.choice(COMPANY_WORDS)} {s1} {suffix}"
            commercial = f"{rng.choice(COMPANY_WORDS)} {s1}"
            email = f"info@{_ascii(s1)}{code}.es"
        else:
            fiscal = commercial = f"{first} {s1} {s2}"
            email = f"{_ascii(first)}.{_ascii(s1)}{code}@example.es"
        created = base + timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1439))
        clients.append(
            dict(
                CODCLI=code,
                CCOCLI=430000000 + code,
                NIFCLI=nif,
                NOFCLI=fiscal[:100],
                NOCCLI=commercial[:100],
                DOMCLI=street,
                POBCLI=town,
                CPOCLI=postcode,
                PROCLI=province,
                PAICLI="ESPAÑA",
                TELCLI=_phone(rng, False),
                MOVCLI=_phone(rng, True),
                EMACLI=email,
                PCOCLI="" if not company else f"{first} {s1}"[:50],
                FPACLI=rng.choice(PAYMENT_METHODS)[0],
                TARCLI=1 if company else 2,
                ESTCLI=1,
                DOCCLI=1,
                REQCLI=1 if company and rng.random() < 0.15 else 0,
                IVACLI=0,
                TRACLI=rng.choice(CARRIERS)[0],
                FALCLI=created,
                FUMCLI=created + timedelta(days=rng.randint(0, 60)),
                SUWCLI=1,
            )
        )
        if rng.random() < 0.3:
            for n in range(1, rng.randint(1, 2) + 1):
                a_street, a_town, a_pc, a_prov = _address(rng)
                addresses.append(
                    dict(
                        CLIOBR=code,
                        CODOBR=n,
                        NOMOBR=(fiscal if n == 1 else f"{first} {s1}")[:100],
                        DIROBR=a_street,
                        POBOBR=a_town,
                        CPOOBR=a_pc,
                        PROOBR=a_prov,
                        PAIOBR="ESPAÑA",
                        TELOBR=_phone(rng, True),
                        PCOOBR=f"{first} {s1}"[:40],
                        EMAOBR=email[:60],
                        FADOBR=3 if n == 1 else 0,
                    )
                )
    return clients, addresses


def build_seed(
    articles: int = 1000,
    customers: int = 200,
    seed: int = 0,
    year: int | None = None,
    orders: int = 6,
    variant_share: float = 0.05,
) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's rows for a stand-in, as ``{table: (columns, rows)}``."""
    rng = random.Random(seed)
    year = year or datetime.now().year
    base = datetime(year, 1, 1)
    out: dict[str, tuple[list[str], list[tuple]]] = {}

    def put(table: str, dict_rows: list[dict]) -> None:
        # A column some rows leave out gets the Access default ('' / 0 / empty date), never NULL text.
        cols = list(dict.fromkeys(k for r in dict_rows for k in r))
        defaults = {c: _empty_value(table, c) for c in cols}
        out[table] = (cols, [tuple(r.get(c, defaults[c]) for c in cols) for r in dict_rows])

    put(
        "F_EMP",
        [
            dict(
                CODEMP="001",
                NIFEMP=make_cif("B", "8" + f"{seed % 1_000_000:06d}"),
                DENEMP="Demo Tienda Online S.L.",
                NOMEMP="Demo Tienda Online",
                EJEEMP=str(year),
                TVEEMP=str(year),
            )
        ],
    )
    put("F_VER", [dict(CODVER=20101)])
    put(
        "F_ALM",
        [
            dict(
                CODALM=c,
                NOMALM=n,
                DIRALM="Polígono Industrial Sur, nave 4",
                POBALM="Getafe",
                CPOALM="28906",
                PROALM="Madrid",
            )
            for c, n in WAREHOUSES
        ],
    )
    put("F_SEC", [dict(CODSEC=c, DESSEC=d, SUWSEC=1, ORDSEC=i + 1) for i, (c, d) in enumerate(SECTIONS)])
    put("F_FAM", [dict(CODFAM=f[0], DESFAM=f[1], SECFAM=f[2], SUWFAM=1, ORDFAM=i + 1) for i, f in enumerate(FAMILIES)])
    put("F_TAR", [dict(CODTAR=c, DESTAR=d, IVATAR=inc, MARTAR=Decimal("0")) for c, d, inc in TARIFFS])
    put(
        "F_FPA",
        [
            dict(CODFPA=c, DESFPA=d, VENFPA=1, SUWFPA=1, EFEFPA=1 if c == "EFE" else 0)
            for c, d in PAYMENT_METHODS + MORE_PAYMENT_METHODS
        ],
    )
    put("F_TRN", [dict(CODTRN=c, NOMTRN=n, PAITRN="ESPAÑA", UWETRN=1) for c, n in CARRIERS])
    cfg = [dict(CODCFG=k, NUMCFG=r, TEXCFG="", TIPCFG=0) for k, r in zip(VAT_RATE_KEYS, VAT_RATES)]
    cfg += [
        dict(CODCFG=k, NUMCFG=r, TEXCFG="unverified key name (stand-in only)", TIPCFG=0)
        for k, r in zip(SURCHARGE_RATE_KEYS, SURCHARGE_RATES)
    ]
    put("F_CFG", cfg)
    sizes = {c: d for c, d in SIZES_CLOTHING + SIZES_SHOES}
    put("F_CE1", [dict(CODCE1=c, DESCE1=d, ORDCE1=i + 1) for i, (c, d) in enumerate(SIZES_CLOTHING + SIZES_SHOES)])
    put("F_CE2", [dict(CODCE2=c, DESCE2=d, ORDCE2=i + 1) for i, (c, d) in enumerate(COLOURS)])
    del sizes

    # Articles: bulk tables built as tuples directly, for speed at 100k.
    art_cols = [
        "CODART",
        "EANART",
        "REFART",
        "FAMART",
        "DESART",
        "DEEART",
        "DETART",
        "DLAART",
        "DEWART",
        "TIVART",
        "PCOART",
        "PESART",
        "SUWART",
        "CSTART",
        "STOART",
        "FALART",
        "FUMART",
        "CCOART",
    ]
    sto_cols = ["ARTSTO", "ALMSTO", "MINSTO", "MAXSTO", "ACTSTO", "DISSTO", "UBISTO"]
    lta_cols = ["TARLTA", "ARTLTA", "MARLTA", "PRELTA"]
    art_rows, sto_rows, lta_rows, ean_rows = [], [], [], []
    arc_rows, stc_rows, ltc_rows, eac_rows = [], [], [], []
    ean_serial = 0

    def next_ean() -> str:
        nonlocal ean_serial
        ean_serial += 1
        return make_ean13(f"84{(seed % 100):02d}{ean_serial:08d}")

    for i in range(1, articles + 1):
        fam = FAMILIES[rng.randrange(len(FAMILIES))]
        fcode, _, _, vat_sel, variant_kind, (lo, hi), nouns, adjs = fam
        code = f"{fcode}{i:06d}"
        name = f"{rng.choice(nouns)} {rng.choice(adjs)}"
        if rng.random() < 0.5:
            name += (
                f" {rng.choice(COLOURS)[1].lower()}"
                if variant_kind is None
                else " " + rng.choice(["premium", "eco", "clásico"])
            )
        name = name[:50]
        price = money(rng.uniform(lo, hi))
        cost = money(price * Decimal("0.6"))
        created = base + timedelta(days=rng.randint(0, 150), seconds=rng.randint(0, 86399))
        has_variants = variant_kind is not None and rng.random() < variant_share * 4
        art_rows.append(
            (
                code,
                next_ean(),
                f"PRV-{rng.randint(1000, 99999)}",
                fcode,
                name,
                name[:30],
                name[:20],
                f"{name}. Producto de calidad, envío en 24/48 h.",
                f"<p>{name}</p>",
                vat_sel,
                cost,
                money(rng.uniform(0.05, 3)),
                1 if rng.random() < 0.9 else 0,
                1,
                1,
                created,
                created + timedelta(days=rng.randint(0, 90)),
                i,
            )
        )
        rate = VAT_RATES[vat_sel] if vat_sel < 3 else Decimal("0")
        for tar, _, inc in TARIFFS:
            p = money(price * (1 + rate / 100)) if inc else price
            lta_rows.append((tar, code, Decimal("40"), p))
        if rng.random() < 0.05:
            ean_rows.append((code, next_ean()))
        if has_variants:
            size_list = SIZES_CLOTHING if variant_kind == "ropa" else SIZES_SHOES
            sz = rng.sample(size_list, k=min(len(size_list), rng.randint(2, 4)))
            cl = rng.sample(COLOURS, k=rng.randint(1, 3))
            for s_code, _ in sz:
                for c_code, _ in cl:
                    arc_rows.append((code, s_code, c_code))
                    eac_rows.append((code, next_ean(), s_code, c_code))
                    for w, _ in WAREHOUSES:
                        q = Decimal(rng.randint(0, 25)) if w == "GEN" else Decimal(rng.randint(0, 5))
                        stc_rows.append(
                            (
                                code,
                                w,
                                s_code,
                                c_code,
                                Decimal("0"),
                                Decimal("0"),
                                q,
                                q - min(q, Decimal(rng.randint(0, 2))),
                            )
                        )
                    if rng.random() < 0.2:  # a few combinations priced differently
                        for tar, _, inc in TARIFFS:
                            p = price + 5
                            ltc_rows.append(
                                (tar, code, s_code, c_code, Decimal("40"), money(p * (1 + rate / 100)) if inc else p)
                            )
            for w, _ in WAREHOUSES:  # FactuSOL keeps an F_STO row per warehouse even for variant articles
                sto_rows.append((code, w, Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0"), ""))
        else:
            for w, _ in WAREHOUSES:
                q = Decimal(rng.randint(0, 120)) if w == "GEN" else Decimal(rng.randint(0, 10))
                reserved = Decimal(rng.randint(0, 3)) if q else Decimal("0")
                sto_rows.append(
                    (
                        code,
                        w,
                        Decimal("2"),
                        Decimal("200"),
                        q,
                        q - min(q, reserved),
                        f"P{rng.randint(1, 30):02d}-E{rng.randint(1, 9)}" if w == "GEN" else "",
                    )
                )
    out["F_ART"] = (art_cols, art_rows)
    out["F_STO"] = (sto_cols, sto_rows)
    out["F_LTA"] = (lta_cols, lta_rows)
    out["F_EAN"] = (["ARTEAN", "EANEAN"], ean_rows)
    out["F_ARC"] = (["ARTARC", "CE1ARC", "CE2ARC"], arc_rows)
    out["F_STC"] = (["ARTSTC", "ALMSTC", "CE1STC", "CE2STC", "MINSTC", "MAXSTC", "ACTSTC", "DISSTC"], stc_rows)
    out["F_LTC"] = (["TARLTC", "ARTLTC", "CE1LTC", "CE2LTC", "MARLTC", "PRELTC"], ltc_rows)
    out["F_EAC"] = (["ARTEAC", "EANEAC", "CE1EAC", "CE2EAC"], eac_rows)

    clients, addresses = customer_rows(rng, max(customers, 1), year)
    put("F_CLI", clients)
    if addresses:
        put("F_OBR", addresses)

    headers, lines = order_rows(rng, clients, art_rows, lta_rows, arc_rows, orders, year)
    if headers:
        put("F_PCL", headers)
        put("F_LPC", lines)
    return out


def order_rows(
    rng: random.Random,
    clients: list[dict],
    art_rows: list[tuple],
    lta_rows: list[tuple],
    arc_rows: list[tuple],
    count: int,
    year: int,
) -> tuple[list[dict], list[dict]]:
    """A few customer orders (series '1') with lines and totals filled the way public writers fill them."""
    from replicator.factusol.writer import order_totals  # one totals formula for seeding and writing

    if not art_rows or count <= 0:
        return [], []
    price1 = {r[1]: r[3] for r in lta_rows if r[0] == 1}
    variants: dict[str, list[tuple[str, str]]] = {}
    for a, s, c in arc_rows:
        variants.setdefault(a, []).append((s, c))
    headers, lines = [], []
    for n in range(1, count + 1):
        cli = clients[rng.randrange(len(clients))]
        placed = datetime(year, rng.randint(1, 6), rng.randint(1, 28), rng.randint(8, 21), rng.randint(0, 59))
        order_lines = []
        for pos in range(1, rng.randint(1, 4) + 1):
            art = art_rows[rng.randrange(len(art_rows))]
            size, colour = rng.choice(variants[art[0]]) if art[0] in variants else ("", "")
            qty = Decimal(rng.randint(1, 3))
            order_lines.append(
                dict(
                    POSLPC=pos,
                    ARTLPC=art[0],
                    DESLPC=art[4],
                    CANLPC=qty,
                    PRELPC=price1[art[0]],
                    DT1LPC=0.0,
                    IVALPC=float(art[9]),
                    CE1LPC=size,
                    CE2LPC=colour,
                    PENLPC=qty,
                    COSLPC=art[10],
                )
            )
        totals = order_totals(
            order_lines,
            VAT_RATES,
            SURCHARGE_RATES,
            surcharge=bool(cli.get("REQCLI")),
            shipping=money(rng.choice([0, 4.95, 6.5])),
        )
        header = dict(
            TIPPCL="1",
            CODPCL=n,
            REFPCL=f"WEB-{100 + n}",
            FECPCL=placed.replace(hour=0, minute=0),
            HORPCL=datetime(1900, 1, 1, placed.hour, placed.minute),
            CLIPCL=cli["CODCLI"],
            CNOPCL=cli["NOFCLI"],
            CDOPCL=cli["DOMCLI"],
            CPOPCL=cli["POBCLI"],
            CCPPCL=cli["CPOCLI"],
            CPRPCL=cli["PROCLI"],
            CNIPCL=cli["NIFCLI"],
            TELPCL=(cli.get("TELCLI") or "")[:20],
            CEMPCL=cli.get("EMACLI", ""),
            CPAPCL=cli["PAICLI"],
            ESTPCL=rng.choice([0, 0, 1, 2]),
            ALMPCL="GEN",
            FOPPCL=cli["FPACLI"],
            TIVPCL=0,
            REQPCL=cli.get("REQCLI", 0),
            TRNPCL=cli.get("TRACLI", 1),
            USUPCL=1,
            USMPCL=1,
            **totals,
        )
        headers.append(header)
        for ln in order_lines:
            lines.append(dict(TIPLPC="1", CODLPC=n, **ln))
    return headers, lines
