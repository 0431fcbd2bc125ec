"""The stand-in shop's reference rows, as a fresh install writes them: shop, languages, countries, states, currency,
groups, carriers, order states, stock reasons, configuration, taxes, categories and attributes."""

from __future__ import annotations


from .shop_data import (
    ATTRIBUTES,
    ATTRIBUTE_GROUPS,
    CARRIERS,
    CATEGORIES,
    CONFIG,
    CONFIG_LANG,
    COUNTRIES,
    ES_PROVINCES,
    GROUPS,
    LANGS,
    ORDER_STATES,
    STOCK_REASONS,
    T0,
    TAXES,
    US_STATES,
    ZERO,
    ZONES,
)
from .shop_sql import insert_row, insert_rows, slug, version_string


def seed_base(cur, p: str, version: str) -> None:
    insert_row(
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
    insert_row(
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
    insert_row(
        cur,
        p,
        "shop_url",
        dict(id_shop=1, domain="localhost", domain_ssl="localhost", physical_uri="/", virtual_uri="", main=1, active=1),
    )
    for lang in LANGS:
        insert_row(
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
        insert_row(cur, p, "lang_shop", dict(id_lang=lang[0], id_shop=1))
    for id_zone, name in ZONES:
        insert_row(cur, p, "zone", dict(id_zone=id_zone, name=name, active=1))
    insert_row(
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
    insert_row(cur, p, "currency_shop", dict(id_currency=1, id_shop=1, conversion_rate=1))
    for id_lang in (1, 2):
        insert_row(
            cur,
            p,
            "currency_lang",
            dict(id_currency=1, id_lang=id_lang, name="Euro" if id_lang == 1 else "euro", symbol="€", pattern=""),
        )
    for cid, zone, iso, call, states, need_id, zipf, en, es in COUNTRIES:
        insert_row(
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
        insert_row(cur, p, "country_shop", dict(id_country=cid, id_shop=1))
        insert_rows(
            cur, p, "country_lang", [dict(id_country=cid, id_lang=1, name=en), dict(id_country=cid, id_lang=2, name=es)]
        )
    insert_rows(
        cur,
        p,
        "state",
        [dict(id_country=6, id_zone=1, name=name, iso_code=iso, tax_behavior=0, active=1) for iso, name in ES_PROVINCES]
        + [
            dict(id_country=21, id_zone=2, name=name, iso_code=iso, tax_behavior=0, active=1) for iso, name in US_STATES
        ],
    )
    for gid, en, es in GROUPS:
        insert_row(
            cur,
            p,
            "group",
            dict(id_group=gid, reduction=0, price_display_method=0, show_prices=1, date_add=T0, date_upd=T0),
        )
        insert_rows(
            cur, p, "group_lang", [dict(id_group=gid, id_lang=1, name=en), dict(id_group=gid, id_lang=2, name=es)]
        )
    for tid, rate, name, group_name in TAXES:
        insert_row(cur, p, "tax", dict(id_tax=tid, rate=rate, active=1, deleted=0))
        insert_rows(cur, p, "tax_lang", [dict(id_tax=tid, id_lang=l, name=name) for l in (1, 2)])
        insert_row(
            cur,
            p,
            "tax_rules_group",
            dict(id_tax_rules_group=tid, name=group_name, active=1, deleted=0, date_add=T0, date_upd=T0),
        )
        insert_row(cur, p, "tax_rules_group_shop", dict(id_tax_rules_group=tid, id_shop=1))
        # like the Spanish localisation pack: one rule per country (intra-EU B2C sales charge Spanish VAT)
        insert_rows(
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
        insert_row(cur, p, "carrier", row)
        insert_row(cur, p, "carrier_shop", dict(id_carrier=cid, id_shop=1))
        insert_row(cur, p, "carrier_tax_rules_group_shop", dict(id_carrier=cid, id_tax_rules_group=1, id_shop=1))
        insert_rows(cur, p, "carrier_zone", [dict(id_carrier=cid, id_zone=z[0]) for z in ZONES])
        insert_rows(
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
        insert_row(
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
        insert_rows(
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
        insert_row(
            cur, p, "stock_mvt_reason", dict(id_stock_mvt_reason=rid, sign=sign, date_add=T0, date_upd=T0, deleted=0)
        )
        insert_rows(
            cur, p, "stock_mvt_reason_lang", [dict(id_stock_mvt_reason=rid, id_lang=l, name=name) for l in (1, 2)]
        )
        if key:
            config[key] = str(rid)
    for name, value in config.items():
        # install rows carry zero dates, like a real shop (the reader must cope)
        insert_row(cur, p, "configuration", dict(name=name, value=value, date_add=ZERO, date_upd=ZERO))
    for name, (en, es) in CONFIG_LANG.items():
        cid = insert_row(cur, p, "configuration", dict(name=name, value=None, date_add=T0, date_upd=T0))
        insert_rows(
            cur,
            p,
            "configuration_lang",
            [
                dict(id_configuration=cid, id_lang=1, value=en, date_upd=T0),
                dict(id_configuration=cid, id_lang=2, value=es, date_upd=T0),
            ],
        )
    for cid, parent, depth, en, es in CATEGORIES:
        insert_row(
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
        insert_row(cur, p, "category_shop", dict(id_category=cid, id_shop=1, position=cid))
        insert_rows(cur, p, "category_group", [dict(id_category=cid, id_group=g) for g in (1, 2, 3)])
        insert_rows(
            cur,
            p,
            "category_lang",
            [
                dict(id_category=cid, id_shop=1, id_lang=1, name=en, link_rewrite=slug(en)),
                dict(id_category=cid, id_shop=1, id_lang=2, name=es, link_rewrite=slug(es)),
            ],
        )
    for gid, is_color, gtype, en, es in ATTRIBUTE_GROUPS:
        insert_row(
            cur,
            p,
            "attribute_group",
            dict(id_attribute_group=gid, is_color_group=is_color, group_type=gtype, position=gid - 1),
        )
        insert_row(cur, p, "attribute_group_shop", dict(id_attribute_group=gid, id_shop=1))
        insert_rows(
            cur,
            p,
            "attribute_group_lang",
            [
                dict(id_attribute_group=gid, id_lang=1, name=en, public_name=en),
                dict(id_attribute_group=gid, id_lang=2, name=es, public_name=es),
            ],
        )
    for aid, gid, color, en, es in ATTRIBUTES:
        insert_row(cur, p, "attribute", dict(id_attribute=aid, id_attribute_group=gid, color=color, position=aid))
        insert_row(cur, p, "attribute_shop", dict(id_attribute=aid, id_shop=1))
        insert_rows(
            cur,
            p,
            "attribute_lang",
            [dict(id_attribute=aid, id_lang=1, name=en), dict(id_attribute=aid, id_lang=2, name=es)],
        )
