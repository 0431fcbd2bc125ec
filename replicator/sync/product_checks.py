"""Articles that must not reach the shop as they are: no price, or a VAT rate the shop has no tax rule for.

Checked before a product is created or its VAT changed.  Such an article is quarantined with the reason (entity
product, its code, the field), nothing is written and no baseline recorded, so it goes through on a later cycle once
FactuSOL gives it a price or the shop gets the tax rule (the engine retries quarantined keys).

- **No price**: an article whose tariff price is NULL (or that has no F_LTA row in the rule's tariff) would be
  published active at 0 €.  It is not created; a linked product keeps the shop's price (an empty FactuSOL value is
  no opinion, see sync/products.py).
- **VAT**: the shop's tax rules group is the active group whose rule for the default country (all states) has the
  article's rate.  A rate above 0 without one would be published with no tax (id_tax_rules_group 0); a 0 % rate is
  PrestaShop's own "No tax" (group 0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from replicator.model import Product
from replicator.prestashop import write as ps_writer

CACHE = "product_checks.tax_groups"


def tax_group(ctx, rate: Decimal) -> int | None:
    """The shop's tax rules group for a VAT rate (0 for a 0 % rate), cached for the cycle; None when it has none."""
    rate = Decimal(rate)
    if rate == 0:
        return 0
    groups: dict[Decimal, Any] = ctx.cache.setdefault(CACHE, {})
    if groups.get(rate) is None:  # a missing group is looked up again: the retry after it is made must see it
        groups[rate] = ps_writer.tax_rules_group_for_rate(ctx.shop, rate)
    return groups[rate]


def publish_problem(ctx, key: str, article: Product, creating: bool, tariff: int = 1) -> tuple[str, str] | None:
    """(field, reason) when the article can't be written to the shop as it is; None when it can.

    For a linked product the VAT only matters when it moved since its baseline (what was last pushed): its other
    fields go on being written meanwhile."""
    if creating and article.price_tax_excl is None:
        return (
            "price_tax_excl",
            f"article {key} has no price in tariff {tariff} (F_LTA.PRELTA): it would be "
            "published at 0 €; give it a price in FactuSOL",
        )
    rate = article.vat_rate
    if rate is None or tax_group(ctx, rate) is not None:
        return None
    if not creating:
        base = ctx.store.baseline("product", key) or {}
        if base.get("vat_rate") is not None and Decimal(str(base["vat_rate"])) == Decimal(rate):
            return None
    country = ctx.shop.config_int("PS_COUNTRY_DEFAULT", 0)
    return (
        "vat_selector",
        f"the shop has no active tax rules group with a {Decimal(rate).normalize():f}% rule "
        f"for its default country (id_country {country}, all states): create it in "
        "International > Taxes > Tax rules; the article waits until then",
    )


__all__ = ["publish_problem", "tax_group"]
