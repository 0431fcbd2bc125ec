"""Keep the shop's search and price filter current for the products the replicator creates or changes.

PrestaShop's front-office search only finds a product with ``product_shop.indexed = 1`` and rows in
``search_word``/``search_index``; on every product save it runs Search::indexation for that product.  This module
does the same, per language: the words of the name, the references (product and combinations), EAN/ISBN/UPC/MPN,
the short and long description, the default category's name, the manufacturer, tags, attribute values and feature
values, each weighted by its ``PS_SEARCH_WEIGHT_*`` key and summed per word.  Words are cleaned as PrestaShop cleans
them (tags stripped, lower case, entities decoded, digits joined across punctuation, everything but letters,
digits and '-' a separator, ``PS_SEARCH_BLACKLIST``, words shorter than ``PS_SEARCH_MINWORDLEN`` dropped, accents
folded, cut to the maximum word length; a hyphenated word also gives its joined and split forms).

The faceted-search module (ps_facetedsearch), where installed, filters categories by price from
``layered_price_index`` (one row per product, currency, shop and country, min/max price tax excluded) and caches
filter blocks in ``layered_filter_block``; ``refresh_price_index`` writes the rows and ``clear_filter_cache`` empties
the cache, as the module does on a product save.  Tables that do not exist are skipped.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

# PrestaShop's install values, used when a key is missing from the shop's configuration
INSTALL_DEFAULTS = {
    "PS_SEARCH_MINWORDLEN": "3",
    "PS_SEARCH_MAX_WORD_LENGTH": "15",
    "PS_SEARCH_FUZZY": "1",
    "PS_SEARCH_WEIGHT_PNAME": "6",
    "PS_SEARCH_WEIGHT_REF": "10",
    "PS_SEARCH_WEIGHT_SHORTDESC": "1",
    "PS_SEARCH_WEIGHT_DESC": "1",
    "PS_SEARCH_WEIGHT_CNAME": "3",
    "PS_SEARCH_WEIGHT_MNAME": "3",
    "PS_SEARCH_WEIGHT_TAG": "4",
    "PS_SEARCH_WEIGHT_ATTRIBUTE": "2",
    "PS_SEARCH_WEIGHT_FEATURE": "2",
}
UNFUZZY_MAX_WORD_LENGTH = 30  # Search::getMaximumWordLength without fuzzy search (the search_word.word width)
SIX = Decimal("0.000001")

# The fields in the order Search::indexation reads them, with the weight key of each.
FIELDS = (
    ("pname", "PNAME"),
    ("reference", "REF"),
    ("supplier_reference", "REF"),
    ("ean13", "REF"),
    ("isbn", "REF"),
    ("upc", "REF"),
    ("mpn", "REF"),
    ("description_short", "SHORTDESC"),
    ("description", "DESC"),
    ("cname", "CNAME"),
    ("mname", "MNAME"),
    ("tags", "TAG"),
    ("attributes", "ATTRIBUTE"),
    ("features", "FEATURE"),
)
COMBINATION_FIELDS = ("reference", "supplier_reference", "ean13", "isbn", "upc", "mpn")  # weighted as REF

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_SPECIAL_FOLD = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}


@dataclass
class SearchSettings:
    """The shop's search configuration: weights, minimum and maximum word length, blacklist per language."""

    weights: dict[str, int]
    min_word_length: int
    max_word_length: int
    blacklist: dict[int, str] = field(default_factory=dict)  # id_lang -> "word|word|..." (lower case)
    indexation: bool = True  # PS_SEARCH_INDEXATION: PrestaShop indexes on product save

    @classmethod
    def load(cls, shop, lang_ids: Iterable[int] = ()) -> "SearchSettings":
        def value(key: str) -> str:
            got = shop.config_value(key)
            return INSTALL_DEFAULTS.get(key, "") if got is None else got

        weights = {name: _int(value(f"PS_SEARCH_WEIGHT_{key}")) for name, key in FIELDS}
        fuzzy = _int(value("PS_SEARCH_FUZZY"))
        longest = _int(value("PS_SEARCH_MAX_WORD_LENGTH")) if fuzzy else UNFUZZY_MAX_WORD_LENGTH
        blacklist = {}
        for lang in lang_ids:
            words = shop.config_value("PS_SEARCH_BLACKLIST", id_lang=lang)
            if words is None:
                words = shop.config_value("PS_SEARCH_BLACKLIST") or ""
            blacklist[lang] = words.lower()
        return cls(
            weights,
            _int(value("PS_SEARCH_MINWORDLEN")),
            longest or UNFUZZY_MAX_WORD_LENGTH,
            blacklist,
            shop.config_value("PS_SEARCH_INDEXATION") != "0",
        )


def _int(text) -> int:
    try:
        return int(str(text).strip() or 0)
    except ValueError:
        return 0


# ------------------------------------------------------------------------------------------------ words


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "N"


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "P"


def _is_word_char(ch: str) -> bool:
    """Letters and digits (and '-') survive; symbols, punctuation, marks, modifier letters and the Latin-1
    superscripts and fractions (PrestaShop's exclusion class) become separators."""
    if ch == "-":
        return True
    cat = unicodedata.category(ch)
    if cat in ("Lu", "Ll", "Lt", "Lo"):
        return ord(ch) not in (0xAA, 0xBA)
    if cat in ("Nd", "Nl") or (cat == "No" and ord(ch) > 0xFF):
        return True
    return False


# ASCII fast paths of the two character classes (most shop texts are ASCII): the same result, without a
# unicodedata lookup per character
_ASCII_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "-")})
_ASCII_DIGIT_PUNCT = re.compile(r"(\d)[!\"#%&'()*,\-./:;?@\[\\\]_{}]+(?=\d)")


def _join_numbers(text: str) -> str:
    """'0.43kg' -> '043kg', '1,000' -> '1000': punctuation between two digits goes."""
    if text.isascii():
        return _ASCII_DIGIT_PUNCT.sub(r"\1", text)
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if _is_punctuation(ch) and out and _is_number(out[-1]):
            j = i
            while j < n and _is_punctuation(text[j]):
                j += 1
            if j < n and _is_number(text[j]):
                i = j
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _fold_accents(text: str) -> str:
    if text.isascii():
        return text
    text = "".join(_SPECIAL_FOLD.get(c, c) for c in text)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _decode_entities(text: str) -> str:
    # html_entity_decode(..., ENT_NOQUOTES): quote entities stay as they are written
    kept = {"&quot;": "\x00q", "&#039;": "\x00a", "&#39;": "\x00b", "&apos;": "\x00c"}
    for entity, mark in kept.items():
        text = text.replace(entity, mark)
    text = html.unescape(text)
    for entity, mark in kept.items():
        text = text.replace(mark, entity)
    return text


def sanitize(text: str | None, min_word_length: int, blacklist: str = "", keep_hyphens: bool = False) -> str:
    """Search::sanitize in indexation mode: the cleaned words of ``text`` joined by single spaces."""
    if text is None:
        return ""
    text = str(text).strip()
    if not text:
        return ""
    text = _decode_entities(_TAG.sub("", text).lower())
    text = _join_numbers(text)
    if text.isascii():
        text = text.translate(_ASCII_WORD)
    else:
        text = "".join(c if _is_word_char(c) else " " for c in text)
    text = text.replace(".", " ").replace("_", " ")
    if not keep_hyphens:
        text = text.replace("-", " ")
    if blacklist:
        # whole words only, as PrestaShop's four anchored replacements do
        words = set(blacklist.split("|"))
        text = " ".join("" if w in words else w for w in text.split(" "))
    if min_word_length > 1:
        text = " ".join(w if len(w) >= min_word_length else "" for w in text.split(" "))
    return _fold_accents(_SPACES.sub(" ", text).strip())


def extract_keywords(text: str | None, min_word_length: int, blacklist: str = "") -> list[str]:
    """Search::extractKeyWords (indexation): the words, plus 'a-1000' and 'a1000' for a hyphenated 'A-1000';
    each word once, in order of first appearance."""
    if not text:
        return []
    return list(_keywords(str(text), min_word_length, blacklist))


@functools.lru_cache(maxsize=20_000)
def _keywords(text: str, min_word_length: int, blacklist: str) -> tuple[str, ...]:
    # the same texts come back for every language and every combination of a product: cleaned once
    words = sanitize(text, min_word_length, blacklist).split(" ")
    if "-" in str(text):
        for word in sanitize(text, min_word_length, blacklist, keep_hyphens=True).split(" "):
            if "-" not in word:
                continue
            words.append(word)
            joined = word.replace("-", "")
            if joined:
                words.append(joined)
    return tuple(dict.fromkeys(words))


def weigh(fields: list[tuple[str, str | None]], settings: SearchSettings, lang: int) -> dict[str, int]:
    """Word -> summed weight for (field name, text) pairs, as Search::fillProductArray adds them up."""
    out: dict[str, int] = {}
    blacklist = settings.blacklist.get(lang, "")
    for name, text in fields:
        weight = settings.weights.get(name, 0)
        if not weight or text in (None, ""):
            continue
        for word in extract_keywords(str(text), settings.min_word_length, blacklist):
            if word:
                word = word[: settings.max_word_length]
                out[word] = out.get(word, 0) + weight
    return {w: n for w, n in out.items() if n}


# ------------------------------------------------------------------------------------------------ the shop side


def existing_tables(shop, names: Iterable[str], cur=None) -> set[str]:
    """Which of these (unprefixed) tables the shop has; read once per connection."""
    cache = shop.cached("search_index_tables", dict)
    wanted = [n for n in names if n not in cache]
    if wanted:
        rows = shop.query(
            "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            f" AND TABLE_NAME IN ({', '.join(['%s'] * len(wanted))})",
            tuple(shop.prefix + n for n in wanted),
            cursor=cur,
        )
        present = {(r["t"].decode() if isinstance(r["t"], bytes) else r["t"])[len(shop.prefix) :] for r in rows}
        for n in wanted:
            cache[n] = n in present
    return {n for n in names if cache[n]}


def product_fields(shop, product_id: int, lang: int, cur=None) -> list[tuple[str, str | None]] | None:
    """The (field, text) pairs Search::indexation reads for one product and language, or None when PrestaShop
    would not index it (inactive, or not visible in search)."""
    return fields_of_products(shop, [product_id], lang, cur).get(int(product_id))


def fields_of_products(shop, product_ids: list[int], lang: int, cur=None) -> dict[int, list[tuple[str, str | None]]]:
    """``product_fields`` for many products with one query per kind of text; products PrestaShop would not index
    (inactive, not visible in search) are left out."""
    have = existing_tables(
        shop,
        (
            "manufacturer",
            "product_tag",
            "tag",
            "feature_product",
            "feature_value_lang",
            "product_attribute_combination",
            "attribute_lang",
        ),
        cur,
    )
    columns = _column_names(shop, "product", cur)
    refs = ", ".join(f"p.`{c}`" for c in COMBINATION_FIELDS if c in columns)
    marks = ", ".join(["%s"] * len(product_ids))
    rows = shop.query(
        f"SELECT p.id_product, pl.name AS pname, {refs}, pl.description_short, pl.description, cl.name AS cname,"
        f" {'m.name' if 'manufacturer' in have else 'NULL'} AS mname"
        " FROM {p}product p JOIN {p}product_shop ps ON ps.id_product = p.id_product AND ps.id_shop = %s"
        " JOIN {p}product_lang pl ON pl.id_product = p.id_product AND pl.id_shop = ps.id_shop AND pl.id_lang = %s"
        " LEFT JOIN {p}category_lang cl ON cl.id_category = ps.id_category_default AND cl.id_lang = pl.id_lang"
        " AND cl.id_shop = ps.id_shop"
        + (" LEFT JOIN {p}manufacturer m ON m.id_manufacturer = p.id_manufacturer" if "manufacturer" in have else "")
        + f" WHERE p.id_product IN ({marks}) AND ps.active = 1 AND ps.visibility IN ('both', 'search')"
        " ORDER BY p.id_product",
        (shop.id_shop, lang, *product_ids),
        cursor=cur,
    )
    out = {r["id_product"]: [(name, r.get(name)) for name, _ in FIELDS[:11]] for r in rows}
    if not out:
        return out
    ids = list(out)
    marks = ", ".join(["%s"] * len(ids))

    def joined(field_name: str, sql: str, args: tuple, column: str) -> None:
        texts: dict[int, str] = {pid: "" for pid in ids}
        for r in shop.query(sql, args, cursor=cur):
            if r[column] is not None:
                texts[r["id_product"]] += f"{r[column]} "  # PrestaShop joins the names with a space after each
        for pid in ids:
            out[pid].append((field_name, texts[pid]))

    if {"product_tag", "tag"} <= have:
        joined(
            "tags",
            "SELECT pt.id_product, t.name FROM {p}product_tag pt LEFT JOIN {p}tag t ON t.id_tag = pt.id_tag"
            f" AND t.id_lang = %s WHERE pt.id_product IN ({marks})",
            (lang, *ids),
            "name",
        )
    if {"product_attribute_combination", "attribute_lang"} <= have:
        joined(
            "attributes",
            "SELECT pa.id_product, al.name FROM {p}product_attribute pa JOIN {p}product_attribute_combination pac"
            " ON pac.id_product_attribute = pa.id_product_attribute JOIN {p}attribute_lang al"
            " ON al.id_attribute = pac.id_attribute AND al.id_lang = %s JOIN {p}product_attribute_shop pas"
            " ON pas.id_product_attribute = pa.id_product_attribute AND pas.id_shop = %s"
            f" WHERE pa.id_product IN ({marks})",
            (lang, shop.id_shop, *ids),
            "name",
        )
    if {"feature_product", "feature_value_lang"} <= have:
        joined(
            "features",
            "SELECT fp.id_product, fvl.value FROM {p}feature_product fp LEFT JOIN {p}feature_value_lang"
            " fvl ON fvl.id_feature_value = fp.id_feature_value AND fvl.id_lang = %s"
            f" WHERE fp.id_product IN ({marks})",
            (lang, *ids),
            "value",
        )
    pa_columns = [c for c in COMBINATION_FIELDS if c in _column_names(shop, "product_attribute", cur)]
    for combo in shop.query(
        f"SELECT id_product, {', '.join(pa_columns)} FROM {{p}}product_attribute"
        f" WHERE id_product IN ({marks}) ORDER BY id_product_attribute",
        tuple(ids),
        cursor=cur,
    ):
        out[combo["id_product"]].extend((c, combo[c]) for c in pa_columns)  # weighted as references
    return out


def _column_names(shop, table: str, cur=None) -> list[str]:
    def read() -> list[str]:
        rows = shop.query(
            "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
            " AND TABLE_NAME = %s",
            (shop.prefix + table,),
            cursor=cur,
        )
        return [r["c"].decode() if isinstance(r["c"], bytes) else r["c"] for r in rows]

    return shop.cached(("search_index_columns", table), read)


CHUNK = 500  # products per round of queries


def index_products(shop, product_ids: Iterable[int], cur, settings: SearchSettings | None = None) -> int:
    """Search::indexation(false, id) for each product, in the caller's transaction: its search_index rows are
    replaced by its words per language (search_word rows added with INSERT IGNORE, as PrestaShop does) and
    product/product_shop.indexed set to 1.  A product PrestaShop would not index (inactive, not visible in search)
    keeps no rows and indexed = 0.  Returns the number of search_index rows written."""
    ids = sorted({int(i) for i in product_ids})
    if not ids or existing_tables(shop, ("search_word", "search_index"), cur) != {"search_word", "search_index"}:
        return 0
    settings = settings or SearchSettings.load(shop, shop.lang_ids)
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        shop.execute(f"DELETE FROM {{p}}search_index WHERE id_product IN ({marks})", tuple(chunk), cursor=cur)
        indexed: set[int] = set()
        for lang in shop.lang_ids:
            fields = fields_of_products(shop, chunk, lang, cur)
            indexed |= set(fields)
            words = {pid: weigh(f, settings, lang) for pid, f in fields.items()}
            distinct = list(dict.fromkeys(w for per in words.values() for w in per))
            if not distinct:
                continue
            cur.executemany(
                shop.sql("INSERT IGNORE INTO {p}search_word (id_lang, id_shop, word) VALUES (%s, %s, %s)"),
                [(lang, shop.id_shop, w) for w in distinct],
            )
            found: dict[str, int] = {}
            for i in range(0, len(distinct), 1000):
                part = distinct[i : i + 1000]
                for r in shop.query(
                    f"SELECT id_word, word FROM {{p}}search_word WHERE word IN"
                    f" ({', '.join(['%s'] * len(part))}) AND id_lang = %s AND id_shop = %s",
                    (*part, lang, shop.id_shop),
                    cursor=cur,
                ):
                    found[r["word"]] = r["id_word"]
            rows = [(pid, found[w], n) for pid, per in words.items() for w, n in per.items() if w in found]
            if rows:
                cur.executemany(
                    shop.sql(
                        "INSERT INTO {p}search_index (id_product, id_word, weight) VALUES"
                        " (%s, %s, %s) ON DUPLICATE KEY UPDATE weight = weight + VALUES(weight)"
                    ),
                    rows,
                )
            written += len(rows)
        for flag, group in ((1, sorted(indexed)), (0, [pid for pid in chunk if pid not in indexed])):
            if group:
                m = ", ".join(["%s"] * len(group))
                for table in ("product", "product_shop"):
                    shop.execute(
                        f"UPDATE {{p}}{table} SET indexed = %s WHERE id_product IN ({m})", (flag, *group), cursor=cur
                    )
    return written


# ------------------------------------------------------------------------------------------------ faceted search


def refresh_price_index(shop, product_ids: Iterable[int], cur, now: datetime | None = None) -> int:
    """layered_price_index rows of these products in this shop (where the module's table exists): per active
    currency of the shop and active country, the price of the product as shown (its default combination's
    impact included) with the current specific-price reduction (min) and without (max), tax excluded, in that
    currency, as ps_facetedsearch writes them (checked against the module's own rows in the real demo shop)."""
    ids = sorted({int(i) for i in product_ids})
    if not ids or not existing_tables(shop, ("layered_price_index",), cur):
        return 0
    now = now or shop.now()
    currencies = shop.query(
        "SELECT c.id_currency, c.conversion_rate FROM {p}currency c JOIN {p}currency_shop cs"
        " ON cs.id_currency = c.id_currency AND cs.id_shop = %s WHERE c.active = 1 AND"
        " c.deleted = 0 ORDER BY c.id_currency",
        (shop.id_shop,),
        cursor=cur,
    )
    shop_join = (
        " JOIN {p}country_shop s ON s.id_country = c.id_country AND s.id_shop = %s"
        if existing_tables(shop, ("country_shop",), cur)
        else ""
    )
    countries = [
        r["id_country"]
        for r in shop.query(
            "SELECT c.id_country FROM {p}country c" + shop_join + " WHERE c.active = 1 ORDER BY c.id_country",
            (shop.id_shop,) if shop_join else None,
            cursor=cur,
        )
    ]
    specific = existing_tables(shop, ("specific_price",), cur)
    total = 0
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        shop.execute(
            f"DELETE FROM {{p}}layered_price_index WHERE id_shop = %s AND id_product IN ({marks})",
            (shop.id_shop, *chunk),
            cursor=cur,
        )
        bases = {
            r["id_product"]: Decimal(r["price"])
            for r in shop.query(
                f"SELECT id_product, price FROM {{p}}product_shop WHERE id_shop = %s AND id_product IN ({marks})",
                (shop.id_shop, *chunk),
                cursor=cur,
            )
        }
        impacts: dict[int, list[Decimal]] = {}
        # the module prices a product as the shop shows it: with its default combination's impact
        for r in shop.query(
            f"SELECT id_product, price FROM {{p}}product_attribute_shop WHERE id_shop = %s"
            f" AND default_on = 1 AND id_product IN ({marks})",
            (shop.id_shop, *chunk),
            cursor=cur,
        ):
            impacts.setdefault(r["id_product"], []).append(Decimal(r["price"]))
        reductions = _reductions(shop, chunk, now, cur) if specific else {}
        rows = []
        for pid in chunk:
            if pid not in bases:
                continue
            prices = [bases[pid] + i for i in impacts.get(pid, [Decimal(0)])]
            mine = reductions.get(pid, []) + reductions.get(0, [])
            for currency in currencies:
                rate = Decimal(currency["conversion_rate"])
                for country in countries:
                    low = min(_reduced(p * rate, mine, currency["id_currency"], country, rate) for p in prices)
                    high = max(p * rate for p in prices)
                    rows.append(
                        (
                            pid,
                            currency["id_currency"],
                            shop.id_shop,
                            low.quantize(SIX, ROUND_HALF_UP),
                            high.quantize(SIX, ROUND_HALF_UP),
                            country,
                        )
                    )
        if rows:
            cur.executemany(
                shop.sql(
                    "INSERT INTO {p}layered_price_index (id_product, id_currency, id_shop, price_min,"
                    " price_max, id_country) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON DUPLICATE KEY UPDATE id_product = id_product"
                ),
                rows,
            )
        total += len(rows)
    return total


def _reductions(shop, product_ids: list[int], now: datetime, cur) -> dict[int, list[dict]]:
    """The specific prices any visitor gets for one unit now (no customer, cart or group restriction), per
    id_product (0: every product)."""
    out: dict[int, list[dict]] = {}
    for r in shop.query(
        "SELECT id_product, id_currency, id_country, price, reduction, reduction_type FROM {p}specific_price"
        f" WHERE id_product IN (0, {', '.join(['%s'] * len(product_ids))}) AND id_shop IN (0, %s)"
        " AND id_customer = 0 AND id_cart = 0 AND id_group = 0 AND id_product_attribute = 0"
        " AND from_quantity <= 1 AND (`from` = '0000-00-00 00:00:00' OR `from` <= %s)"
        " AND (`to` = '0000-00-00 00:00:00' OR `to` >= %s)",
        (*product_ids, shop.id_shop, now, now),
        cursor=cur,
    ):
        out.setdefault(r["id_product"], []).append(r)
    return out


def _reduced(price: Decimal, reductions: list[dict], id_currency: int, id_country: int, rate: Decimal) -> Decimal:
    best = price
    for r in reductions:
        if r["id_currency"] not in (0, id_currency) or r["id_country"] not in (0, id_country):
            continue
        base = price if Decimal(r["price"]) < 0 else Decimal(r["price"]) * rate
        if r["reduction_type"] == "percentage":
            value = base * (1 - Decimal(r["reduction"]))
        else:
            value = base - Decimal(r["reduction"]) * (rate if r["id_currency"] == 0 else 1)
        best = min(best, max(value, Decimal(0)))
    return best


def clear_filter_cache(shop, cur) -> bool:
    """Empty layered_filter_block (the module's cache of filter blocks) where it exists, as a product save does."""
    if not existing_tables(shop, ("layered_filter_block",), cur):
        return False
    shop.execute("DELETE FROM {p}layered_filter_block", cursor=cur)
    return True


def after_product_write(shop, product_ids: Iterable[int], cur, search: bool = True) -> dict[str, int]:
    """What PrestaShop's product save does beside the product rows: search index (unless ``search`` is off or the
    shop's PS_SEARCH_INDEXATION is 0), price index and filter cache of the faceted-search module."""
    ids = list(product_ids)
    done = {"search_rows": 0, "price_rows": 0, "filter_cache_cleared": 0}
    if not ids:
        return done
    if search:
        settings = shop.cycle_cached("search_settings", lambda: SearchSettings.load(shop, shop.lang_ids))
        if settings.indexation:
            done["search_rows"] = index_products(shop, ids, cur, settings)
    done["price_rows"] = refresh_price_index(shop, ids, cur)
    done["filter_cache_cleared"] = int(clear_filter_cache(shop, cur))
    return done


__all__ = [
    "SearchSettings",
    "after_product_write",
    "clear_filter_cache",
    "extract_keywords",
    "index_products",
    "product_fields",
    "refresh_price_index",
    "sanitize",
    "weigh",
]
