"""The shop's category tree, read and written as PrestaShop's own Category class does it.

Category::add: a `category` row (level_depth = the parent's + 1, active, id_shop_default), one `category_lang` row
per language ('' for the texts PrestaShop leaves empty, link_rewrite from the name), `category_shop` at the next
position among the siblings (Category::getLastPosition: 0 for an only child, else 1 + the highest), the three
default customer groups in `category_group` (Category::updateGroup: PS_UNIDENTIFIED_GROUP, PS_GUEST_GROUP,
PS_CUSTOMER_GROUP) and the nested set rebuilt (Category::regenerateEntireNtree: nleft/nright numbered depth
first, children in `category_shop.position` order).  A move re-parents, renumbers the old siblings' positions
(Category::cleanPositions) and recomputes level_depth below it.  `category.position` is kept equal to the shop's
position, as PrestaShop's cleanPositions/updatePosition keep it.

Products are placed with `place_products`: `category_product` rows (position after the category's last) and
`id_category_default` in `product` and `product_shop`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from .connection import ShopConnection
from .write.readback import ReadBack
from .write.sql import Extra, insert_many, run_extra

_WORD = re.compile(r"[a-z0-9]+")
NAME_WIDTH = 128  # category_lang.name varchar(128)


@dataclass
class ShopCategory:
    id: int
    parent: int
    depth: int
    position: int
    names: dict[int, str] = field(default_factory=dict)  # id_lang -> name, in this shop


def fold(text: str | None) -> str:
    """Case-, accent- and outer-space-insensitive form of a name (what utf8mb4_general_ci compares equal)."""
    text = (text or "").strip()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def link_rewrite(name: str) -> str:
    """The friendly URL PrestaShop derives from a name: ASCII, lower case, words joined by '-' (128 max)."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "-".join(_WORD.findall(ascii_text))[:NAME_WIDTH] or "category"


def home_category(shop: ShopConnection) -> int:
    return shop.config_int("PS_HOME_CATEGORY", 2)


def read_tree(shop: ShopConnection, cur=None) -> dict[int, ShopCategory]:
    """Every category with its parent, depth, position and names in this shop."""
    tree = {
        r["id_category"]: ShopCategory(r["id_category"], r["id_parent"], r["level_depth"], r["position"] or 0)
        for r in shop.query(
            "SELECT c.id_category, c.id_parent, c.level_depth, cs.position FROM {p}category c"
            " LEFT JOIN {p}category_shop cs ON cs.id_category = c.id_category AND cs.id_shop = %s",
            (shop.id_shop,),
            cursor=cur,
        )
    }
    for r in shop.query(
        "SELECT id_category, id_lang, name FROM {p}category_lang WHERE id_shop = %s", (shop.id_shop,), cursor=cur
    ):
        if r["id_category"] in tree:
            tree[r["id_category"]].names[r["id_lang"]] = r["name"]
    return tree


def find_child(tree: dict[int, ShopCategory], parent: int, name: str) -> int | None:
    """The child of ``parent`` named ``name`` in any language (case and accents ignored); the lowest id wins."""
    wanted = fold(name)
    for cid in sorted(tree):
        cat = tree[cid]
        if cat.parent == parent and any(fold(n) == wanted for n in cat.names.values()):
            return cid
    return None


class TreeWriter:
    """Category changes made in one shop transaction (``cur``); `finish` rebuilds the nested set once."""

    def __init__(self, shop: ShopConnection, cur, tree: dict[int, ShopCategory] | None = None):
        self.shop, self.cur = shop, cur
        self.tree = tree if tree is not None else read_tree(shop, cur)
        self.now = shop.now()
        self.changed = False
        self._lang_cols: set[str] | None = None

    def _next_position(self, parent: int, exclude: int | None = None) -> int:
        siblings = [c.position for c in self.tree.values() if c.parent == parent and c.id != exclude]
        return 1 + max(siblings) if siblings else 0

    def _language_columns(self) -> set[str]:
        if self._lang_cols is None:
            rows = self.shop.query(
                "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                " DATABASE() AND TABLE_NAME = %s",
                (self.shop.prefix + "category_lang",),
                cursor=self.cur,
            )
            self._lang_cols = {r["c"] for r in rows}
        return self._lang_cols

    def create(self, parent: int, name: str) -> int:
        """A new active category under ``parent``, named ``name`` in every language."""
        shop, cur = self.shop, self.cur
        name = name[:NAME_WIDTH]
        depth = self.tree[parent].depth + 1 if parent in self.tree else 1
        position = self._next_position(parent)
        cid = shop.execute(
            "INSERT INTO {p}category (id_parent, id_shop_default, level_depth, nleft, nright, active,"
            " date_add, date_upd, position, is_root_category)"
            " VALUES (%s, %s, %s, 0, 0, 1, %s, %s, %s, 0)",
            (parent, shop.id_shop, depth, self.now, self.now, position),
            cursor=cur,
        )
        texts = {
            "description": "",
            "additional_description": "",
            "meta_title": "",
            "meta_keywords": "",
            "meta_description": "",
        }
        texts = {k: v for k, v in texts.items() if k in self._language_columns()}
        columns = ["id_category", "id_shop", "id_lang", "name", "link_rewrite", *texts]
        for lang in shop.lang_ids:
            shop.execute(
                f"INSERT INTO {{p}}category_lang ({', '.join(f'`{c}`' for c in columns)}) VALUES"
                f" ({', '.join(['%s'] * len(columns))})",
                (cid, shop.id_shop, lang, name, link_rewrite(name), *texts.values()),
                cursor=cur,
            )
        shop.execute(
            "INSERT INTO {p}category_shop (id_category, id_shop, position) VALUES (%s, %s, %s)",
            (cid, shop.id_shop, position),
            cursor=cur,
        )
        if shop.has_table("category_group"):
            groups = dict.fromkeys(
                g
                for g in (shop.config_int(k) for k in ("PS_UNIDENTIFIED_GROUP", "PS_GUEST_GROUP", "PS_CUSTOMER_GROUP"))
                if g
            )
            for group in groups:
                shop.execute(
                    "INSERT IGNORE INTO {p}category_group (id_category, id_group) VALUES (%s, %s)",
                    (cid, group),
                    cursor=cur,
                )
        self.tree[cid] = ShopCategory(cid, parent, depth, position, {lang: name for lang in shop.lang_ids})
        self.changed = True
        return cid

    def rename(self, cid: int, name: str, previous: str | None) -> list[int]:
        """Rename in the default language, and in every other language still holding ``previous`` (nobody
        translated it).  link_rewrite is kept: the category's address does not change.  Returns the languages."""
        name = name[:NAME_WIDTH]
        cat = self.tree[cid]
        langs = [
            lang
            for lang, current in cat.names.items()
            if current != name and (lang == self.shop.id_lang or previous is None or fold(current) == fold(previous))
        ]
        for lang in langs:
            self.shop.execute(
                "UPDATE {p}category_lang SET name = %s WHERE id_category = %s AND id_shop = %s AND id_lang = %s",
                (name, cid, self.shop.id_shop, lang),
                cursor=self.cur,
            )
            cat.names[lang] = name
        if langs:
            self.shop.execute(
                "UPDATE {p}category SET date_upd = %s WHERE id_category = %s", (self.now, cid), cursor=self.cur
            )
        return langs

    def move(self, cid: int, parent: int) -> None:
        """Re-parent a category (last among its new siblings); the old siblings close the gap."""
        cat = self.tree[cid]
        if cat.parent == parent or cid == parent:
            return
        old_parent = cat.parent
        cat.parent, cat.position = parent, self._next_position(parent, exclude=cid)
        self.shop.execute(
            "UPDATE {p}category SET id_parent = %s, position = %s, date_upd = %s WHERE id_category = %s",
            (parent, cat.position, self.now, cid),
            cursor=self.cur,
        )
        self.shop.execute(
            "UPDATE {p}category_shop SET position = %s WHERE id_category = %s AND id_shop = %s",
            (cat.position, cid, self.shop.id_shop),
            cursor=self.cur,
        )
        siblings = sorted((c for c in self.tree.values() if c.parent == old_parent), key=lambda c: (c.position, c.id))
        for i, sibling in enumerate(siblings):
            if sibling.position != i:
                sibling.position = i
                self.shop.execute(
                    "UPDATE {p}category SET position = %s WHERE id_category = %s", (i, sibling.id), cursor=self.cur
                )
                self.shop.execute(
                    "UPDATE {p}category_shop SET position = %s WHERE id_category = %s AND id_shop = %s",
                    (i, sibling.id, self.shop.id_shop),
                    cursor=self.cur,
                )
        self.changed = True

    def finish(self) -> None:
        """level_depth and the nested set (nleft/nright) as PrestaShop recomputes them after a change."""
        if not self.changed:
            return
        children: dict[int, list[ShopCategory]] = defaultdict(list)
        for cat in self.tree.values():
            children[cat.parent].append(cat)
        for kids in children.values():
            kids.sort(key=lambda c: (c.position, c.id))
        depth: dict[int, int] = {}
        numbers: dict[int, tuple[int, int]] = {}
        counter = 1
        roots = children.get(0, [])
        # regenerateEntireNtree numbers the first top-level category's tree (the root); depth is the parent's + 1
        stack: list[tuple[ShopCategory, int, bool]] = [(roots[0], 0, False)] if roots else []
        left: dict[int, int] = {}
        while stack:
            cat, level, done = stack.pop()
            if done:
                numbers[cat.id] = (left[cat.id], counter)
                counter += 1
                continue
            left[cat.id] = counter
            counter += 1
            depth[cat.id] = level
            stack.append((cat, level, True))
            for kid in reversed(children.get(cat.id, [])):
                stack.append((kid, level + 1, False))
        current = {
            r["id_category"]: r
            for r in self.shop.query("SELECT id_category, level_depth, nleft, nright FROM {p}category", cursor=self.cur)
        }
        for cid, (nleft, nright) in numbers.items():
            row = current.get(cid)
            if row is None:
                continue
            level = depth[cid]
            if (row["nleft"], row["nright"], row["level_depth"]) != (nleft, nright, level):
                self.shop.execute(
                    "UPDATE {p}category SET nleft = %s, nright = %s, level_depth = %s WHERE id_category = %s",
                    (nleft, nright, level, cid),
                    cursor=self.cur,
                )
                self.tree[cid].depth = level
        self.changed = False


@dataclass
class Placement:
    """Where one product goes: into ``categories``, ``default`` as its default category (None: keep it), out of
    the ``leave`` ones (never out of a category it stays in, nor out of its default unless it gets a new one)."""

    product_id: int
    categories: tuple[int, ...]
    default: int | None = None
    leave: tuple[int, ...] = ()


def place_products(
    shop: ShopConnection, placements: list[Placement], *, extra: Extra = None, read_back: ReadBack | None = None
) -> int:
    """Put products into their categories in one transaction; returns how many products changed.

    A product joins a category at the category's last position (as the back office adds it), gets its default
    category in product and product_shop, and leaves the categories named in ``leave``, the positions behind it
    closing up (Product::deleteCategory -> cleanPositions).  ``read_back`` (poll mode) reads the product and
    product_shop rows whose default category moved back in the transaction, and hands their hashes on after it."""
    if not placements:
        return 0
    if read_back is not None:
        read_back.begin()
    now = shop.now()
    changed = 0
    with shop.transaction() as cur:
        ids = [p.product_id for p in placements]
        current: dict[int, list] = {}
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            marks = ", ".join(["%s"] * len(chunk))
            for r in shop.query(
                f"SELECT id_product, id_category_default FROM {{p}}product_shop WHERE id_shop = %s"
                f" AND id_product IN ({marks}) FOR UPDATE",
                (shop.id_shop, *chunk),
                cursor=cur,
            ):
                current[r["id_product"]] = [int(r["id_category_default"] or 0), set()]
            for r in shop.query(
                f"SELECT id_product, id_category FROM {{p}}category_product WHERE id_product IN ({marks})",
                chunk,
                cursor=cur,
            ):
                if r["id_product"] in current:
                    current[r["id_product"]][1].add(r["id_category"])
        next_position: dict[int, int] = {}

        def position(category: int) -> int:
            if category not in next_position:
                row = shop.query_one(
                    "SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}category_product"
                    " WHERE id_category = %s FOR UPDATE",
                    (category,),
                    cursor=cur,
                )
                next_position[category] = int(row["n"])
            n = next_position[category]
            next_position[category] = n + 1
            return n

        inserts: list[tuple[int, int, int]] = []
        defaults: dict[int, list[int]] = defaultdict(list)
        left: list[tuple[int, int]] = []
        for p in placements:
            if p.product_id not in current:
                continue
            default, member = current[p.product_id]
            moved = False
            for category in p.categories:
                if category not in member:
                    inserts.append((category, p.product_id, position(category)))
                    member.add(category)
                    moved = True
            if p.default is not None and default != p.default:
                if p.default not in member:
                    inserts.append((p.default, p.product_id, position(p.default)))
                    member.add(p.default)
                defaults[p.default].append(p.product_id)
                current[p.product_id][0] = default = p.default
                moved = True
            for old in p.leave:
                if old in member and old not in p.categories and old != default:
                    left.append((old, p.product_id))
                    member.discard(old)
                    moved = True
            changed += moved
        insert_many(
            shop,
            cur,
            "category_product",
            [{"id_category": c, "id_product": pid, "position": n} for c, pid, n in inserts],
        )
        for category, products in defaults.items():
            marks = ", ".join(["%s"] * len(products))
            shop.execute(
                f"UPDATE {{p}}product SET id_category_default = %s, date_upd = %s WHERE id_product IN ({marks})",
                (category, now, *products),
                cursor=cur,
            )
            shop.execute(
                f"UPDATE {{p}}product_shop SET id_category_default = %s, date_upd = %s WHERE id_shop = %s"
                f" AND id_product IN ({marks})",
                (category, now, shop.id_shop, *products),
                cursor=cur,
            )
        for category in sorted({c for c, _ in left}):
            gone = [pid for c, pid in left if c == category]
            marks = ", ".join(["%s"] * len(gone))
            shop.execute(
                f"DELETE FROM {{p}}category_product WHERE id_category = %s AND id_product IN ({marks})",
                (category, *gone),
                cursor=cur,
            )
            # the positions behind the products that left close up (0..n-1 in their order)
            rows = shop.query(
                "SELECT id_product, position FROM {p}category_product WHERE id_category = %s"
                " ORDER BY position, id_product FOR UPDATE",
                (category,),
                cursor=cur,
            )
            for n, r in enumerate(rows):
                if r["position"] != n:
                    shop.execute(
                        "UPDATE {p}category_product SET position = %s WHERE id_category = %s AND id_product = %s",
                        (n, category, r["id_product"]),
                        cursor=cur,
                    )
        if read_back is not None and defaults:
            moved = [pid for products in defaults.values() for pid in products]
            read_back.products(shop.conn, moved, ("product", "product_shop"))
        if changed:
            run_extra(shop, cur, extra)
    if read_back is not None:
        read_back.committed()
    return changed
