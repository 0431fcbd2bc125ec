"""Value maps, transforms (join/split, fit to width, VAT, units, templates) and the rule-driven decisions."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from replicator.rules import (
    ColumnCatalog,
    MappingError,
    anonymise,
    apply_transforms,
    assign_customer_code,
    load_rules,
    merge_entity,
    passes_filters,
    read_side,
    stock_quantity,
)

NO_CATALOG = ColumnCatalog()


@pytest.fixture(scope="module")
def rules():
    return load_rules(catalog=NO_CATALOG)


def test_names_join_and_split(rules):
    c = rules.entity("customer")
    assert apply_transforms(c, {"fiscal_name": "Ana García López"}, "prestashop") == {
        "customer.firstname": "Ana",
        "customer.lastname": "García López",
    }
    assert (
        read_side(c, {"customer.firstname": " Ana ", "customer.lastname": "García"}, "prestashop")["fiscal_name"]
        == "Ana García"
    )
    assert apply_transforms(c, {"fiscal_name": " Ana García "}, "factusol") == {"F_CLI.NOFCLI": "Ana García"}


def test_fit_reject_raises_mapping_error_and_truncate_cuts(rules):
    c = rules.entity("customer")
    with pytest.raises(MappingError) as exc:
        apply_transforms(c, {"email": "x@y.es", "fiscal_name": "N" * 101}, "factusol")
    e = exc.value
    assert (e.entity, e.key, e.field) == ("customer", "x@y.es", "fiscal_name")
    assert "width 100" in e.reason and "reject" in e.reason
    assert apply_transforms(c, {"city": "C" * 40}, "factusol") == {"F_CLI.POBCLI": "C" * 30}


def test_fit_uses_the_catalog_width_first(tmp_path):
    (tmp_path / "address.yaml").write_text(
        textwrap.dedent("""
        entity: address
        fields:
          city: {factusol: {column: F_OBR.POBOBR, fit: truncate, width: 30}}
    """),
        encoding="utf-8",
    )
    wide = load_rules(tmp_path, catalog=NO_CATALOG).entity("address")
    narrow = load_rules(tmp_path, catalog=ColumnCatalog(factusol={"F_OBR": {"POBOBR": 5}})).entity("address")
    assert apply_transforms(wide, {"city": "Villanueva"}, "factusol") == {"F_OBR.POBOBR": "Villanueva"}
    assert apply_transforms(narrow, {"city": "Villanueva"}, "factusol") == {"F_OBR.POBOBR": "Villa"}


def test_order_states_both_ways(rules):
    o = rules.entity("order")
    assert apply_transforms(o, {"state": "shipped"}, "factusol") == {"F_PCL.ESTPCL": 2}
    assert apply_transforms(o, {"state": "shipped"}, "prestashop") == {"orders.current_state": "PS_OS_SHIPPING"}
    assert read_side(o, {"F_PCL.ESTPCL": 3}, "factusol") == {"state": "processing"}
    assert read_side(o, {"orders.current_state": "PS_OS_BANKWIRE"}, "prestashop") == {"state": "pending"}
    assert read_side(o, {"orders.current_state": "PS_OS_DELIVERED"}, "prestashop") == {"state": "shipped"}
    for code in range(5):  # every ESTPCL code has a state
        read_side(o, {"F_PCL.ESTPCL": code}, "factusol")


def test_missing_value_map_entry_is_a_mapping_error(rules):
    o = rules.entity("order")
    with pytest.raises(MappingError) as exc:
        read_side(o, {"F_PCL.ESTPCL": 9}, "factusol", key="PS-1")
    assert exc.value.field == "state" and "missing from value map states" in exc.value.reason
    with pytest.raises(MappingError):
        apply_transforms(o, {"state": "lost_in_space"}, "factusol")


def test_value_map_fallback_and_lists(rules):
    o = rules.entity("order")
    assert read_side(o, {"orders.module": "stripe_official"}, "prestashop") == {"payment_method": "card"}
    assert read_side(o, {"orders.module": "some_new_module"}, "prestashop") == {"payment_method": "card"}
    assert apply_transforms(o, {"payment_method": "transfer"}, "factusol") == {"F_PCL.FOPPCL": "TRF"}


def test_countries_are_matched_case_insensitively_across_files(rules):
    c = rules.entity("customer")
    assert read_side(c, {"F_CLI.PAICLI": "España"}, "factusol") == {"country_iso": "ES"}
    assert read_side(c, {"F_CLI.PAICLI": "724"}, "factusol") == {"country_iso": "ES"}
    assert read_side(c, {"F_CLI.PAICLI": ""}, "factusol") == {"country_iso": "ES"}
    assert apply_transforms(c, {"country_iso": "PT"}, "factusol") == {"F_CLI.PAICLI": "PORTUGAL"}
    with pytest.raises(MappingError):
        read_side(c, {"F_CLI.PAICLI": "ATLANTIDA"}, "factusol")


def test_vat_selector_and_tax_rules_groups(rules):
    p = rules.entity("product")
    assert apply_transforms(p, {"vat_selector": 1}, "prestashop") == {"product.id_tax_rules_group": 2}
    assert read_side(p, {"product.id_tax_rules_group": 0}, "prestashop") == {"vat_selector": 3}
    lines = rules.entity("order_line")
    assert apply_transforms(lines, {"vat_rate": Decimal("10.000")}, "factusol") == {"F_LPC.IVALPC": 1}
    assert read_side(lines, {"F_LPC.IVALPC": 2}, "factusol") == {"vat_rate": Decimal("4")}
    with pytest.raises(MappingError) as exc:
        apply_transforms(lines, {"reference": "A1", "vat_rate": 7}, "factusol")
    assert "no FactuSOL VAT type has rate 7%" in exc.value.reason


def test_tax_included_prices_and_units(tmp_path):
    (tmp_path / "product.yaml").write_text(
        textwrap.dedent("""
        entity: product
        direction: to_prestashop
        vat_rates: {0: 21, 1: 10, 2: 4, 3: 0}
        fields:
          vat_selector: {factusol: F_ART.TIVART}
          price_tax_excl:
            factusol: {column: F_LTA.PRELTA, vat_included: true, vat_selector_field: vat_selector}
            prestashop: product.price
          weight:
            factusol: {column: F_ART.PESART, multiply: 1000}
            prestashop: product.weight
    """),
        encoding="utf-8",
    )
    p = load_rules(tmp_path, catalog=NO_CATALOG).entity("product")
    canonical = read_side(p, {"F_ART.TIVART": 0, "F_LTA.PRELTA": Decimal("12.1000"), "F_ART.PESART": 1500}, "factusol")
    assert canonical == {"vat_selector": 0, "price_tax_excl": Decimal("10.000000"), "weight": Decimal("1.500000")}
    assert apply_transforms(p, canonical, "prestashop") == {
        "product.price": Decimal("10.000000"),
        "product.weight": Decimal("1.500000"),
    }
    back = apply_transforms(p, canonical, "factusol", respect_direction=False)
    assert back == {"F_ART.TIVART": 0, "F_LTA.PRELTA": Decimal("12.1000"), "F_ART.PESART": Decimal("1500.0000")}
    with pytest.raises(MappingError):
        apply_transforms(p, {"vat_selector": 7, "price_tax_excl": 1}, "factusol", respect_direction=False)


def test_order_reference_template_round_trip(rules):
    o = rules.entity("order")
    out = apply_transforms(o, {"prestashop_id": 12, "reference": "XKBKNABJK"}, "factusol")
    assert out == {"F_PCL.REFPCL": "PS-12-XKBKNABJK"}
    assert read_side(o, out, "factusol") == {"reference": "XKBKNABJK"}


def test_direction_filters_writes(rules):
    p = rules.entity("product")
    assert apply_transforms(p, {"name": "Camiseta"}, "factusol") == {}
    assert apply_transforms(p, {"name": "Camiseta"}, "prestashop") == {"product_lang.name": "Camiseta"}
    assert apply_transforms(p, {"name": "Camiseta"}, "prestashop", as_columns=False) == {"name": "Camiseta"}
    assert apply_transforms(p, {"name": None}, "prestashop") == {}


def test_merge_entity_uses_rule_policies_and_directions(rules):
    c = rules.entity("customer")
    base = {"email": "a@x", "nif": "1A", "tariff": 1}
    r = merge_entity(
        c, base, {"email": "b@x", "nif": "2B", "tariff": 2}, {"email": "c@x", "nif": "3C"}, timestamps=(None, None)
    )
    assert {x.field for x in r.conflicts} == {"email", "nif"}  # newest_wins without times, manual
    assert r.to_prestashop == {} and r.merged["tariff"] == 1  # tariff: direction none


def test_stock_formula_warehouses_and_unsynced_orders(rules):
    s = rules.entity("stock")  # warehouses [GEN], physical_minus_pending_orders, subtract unsynced
    per_wh = {
        "GEN": {"physical": 10, "available": 8, "pending": 3, "on_order": 5},
        "B2": {"physical": 100, "available": 100},
    }
    assert stock_quantity(s, per_wh, unsynced_shop_orders=2) == Decimal(5)
    assert stock_quantity(s, per_wh, unsynced_shop_orders=20) == Decimal(0)  # negative_as_zero
    s.options.update(warehouses="all", formula="available_plus_on_order", subtract_unsynced_shop_orders=False)
    try:
        assert stock_quantity(s, per_wh, unsynced_shop_orders=2) == Decimal(113)
        s.options.update(warehouses=["GEN", "B2"], formula="physical")
        assert stock_quantity(s, per_wh) == Decimal(110)
    finally:
        s.options.update(
            warehouses=["GEN"], formula="physical_minus_pending_orders", subtract_unsynced_shop_orders=True
        )


def test_customer_codes_from_separate_ranges(rules):
    c = rules.entity("customer")  # registered 10000-89999, guests 90000-99999
    assert assign_customer_code(c, False, []) == 10000
    assert assign_customer_code(c, False, [1, 10005, 90010]) == 10006
    assert assign_customer_code(c, True, [1, 10005, 90010]) == 90011
    c2 = type(c)(**{**c.__dict__, "options": {"codes": {"registered": {"from": 1, "to": 2}, "guests": {"single": 9}}}})
    assert assign_customer_code(c2, True, [9]) == 9
    with pytest.raises(MappingError, match="full"):
        assign_customer_code(c2, False, [1, 2])


def test_filters(rules):
    p = rules.entity("product")
    assert passes_filters(p, {"F_ART.SUWART": 1, "family": "ROP"})
    assert not passes_filters(p, {"F_ART.SUWART": 0})
    assert passes_filters(p, {"publish": True})
    p2 = type(p)(**{**p.__dict__, "filters": {"families": ["ROP"]}})
    assert passes_filters(p2, {"family": "rop"}) and not passes_filters(p2, {"family": "CAL"})
    c = rules.entity("customer")
    c2 = type(c)(**{**c.__dict__, "filters": {"customer_groups": [3], "include_guests": False}})
    assert passes_filters(c2, {"groups": [1, 3]})
    assert not passes_filters(c2, {"groups": [2]})
    assert not passes_filters(c2, {"groups": [3], "is_guest": True})


def test_gdpr_anonymise(rules):
    c = rules.entity("customer")
    out = anonymise(c, {"email": "ana@x.es", "nif": "1A", "firstname": "Ana"})
    assert out["email"] == "ANONIMIZADO" and out["firstname"] == "ANONIMIZADO" and out["nif"] == "1A"
    keep = type(c)(**{**c.__dict__, "options": {"gdpr": {"on_delete": "keep"}}})
    assert anonymise(keep, {"email": "ana@x.es"}) == {"email": "ana@x.es"}
