"""Products (with Size/Color combinations and stock) and customers (with an address) in the stand-in shop, written
the way PrestaShop's back office would."""

from __future__ import annotations

from decimal import Decimal

from .shop_data import ATTRIBUTES, ZERO
from .shop_sql import insert_row, insert_rows, slug, ts


def add_product(
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
    when = ts(minute)
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
    pid = insert_row(
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
    insert_row(
        cur,
        p,
        "product_shop",
        dict(common, id_product=pid, id_shop=1, **({} if version == "8" else {"redirect_type": ""})),
    )
    insert_rows(
        cur,
        p,
        "product_lang",
        [
            dict(
                id_product=pid,
                id_shop=1,
                id_lang=1,
                name=en,
                link_rewrite=slug(en),
                description=f"<p>{en}.</p>",
                description_short=f"<p>{en}</p>",
            ),
            dict(
                id_product=pid,
                id_shop=1,
                id_lang=2,
                name=es,
                link_rewrite=slug(es),
                description=f"<p>{es}.</p>",
                description_short=f"<p>{es}</p>",
            ),
        ],
    )
    cur.execute(f"SELECT COALESCE(MAX(position) + 1, 0) FROM `{p}category_product` WHERE id_category = %s", (cat,))
    insert_row(cur, p, "category_product", dict(id_category=cat, id_product=pid, position=cur.fetchone()[0]))
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
        pa = insert_row(cur, p, "product_attribute", row)
        insert_row(
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
        insert_rows(
            cur,
            p,
            "product_attribute_combination",
            [dict(id_attribute=a, id_product_attribute=pa) for a in (size, color) if a],
        )
        if version == "8":
            insert_rows(
                cur,
                p,
                "product_attribute_lang",
                [dict(id_product_attribute=pa, id_lang=l, available_now="", available_later="") for l in (1, 2)],
            )
        insert_row(
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
    insert_row(
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


def add_customer(
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
    when = ts(minute)
    group = 2 if guest else 3
    cid = insert_row(
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
    insert_row(cur, p, "customer_group", dict(id_customer=cid, id_group=group))
    ids = []
    for alias, street, postcode, city, prov, country, phone, dni, vat in addresses:
        ids.append(
            insert_row(
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
