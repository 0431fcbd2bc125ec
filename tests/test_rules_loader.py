"""Rule files: the defaults load clean; every kind of mistake is reported at its exact file:line:col."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from replicator.rules import (
    ColumnCatalog,
    RuleProblem,
    RulesError,
    check_rules,
    load_column_catalog,
    load_rules,
    rules_check_main,
)
from replicator.rules.loader import DEFAULT_RULES_DIR

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
NO_CATALOG = ColumnCatalog()
ENTITIES = {"customer", "address", "product", "stock", "order", "shipment", "invoice"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def problems(path: Path, catalog: ColumnCatalog = NO_CATALOG) -> list[str]:
    return [str(p) for p in check_rules([path], catalog=catalog)]


def test_default_rules_load_clean_with_the_project_catalogs():
    rs = load_rules()
    assert set(rs.entities) == ENTITIES
    assert check_rules() == []


def test_default_rules_load_clean_without_any_catalog():
    rs = load_rules(DEFAULT_RULES_DIR, catalog=NO_CATALOG)
    assert set(rs.entities) == ENTITIES


@pytest.mark.reference
def test_default_rules_columns_exist_in_the_reference_schemas():
    fs = REFERENCE / "factusol" / "factusol_key_tables_schema.json"
    ps = REFERENCE / "prestashop" / "db_structure.sql"
    if not (fs.exists() and ps.exists()):
        pytest.skip("reference files absent")
    catalog = load_column_catalog(fs, ps)
    assert catalog.factusol and catalog.prestashop
    assert check_rules(catalog=catalog) == []


def test_default_rules_encode_the_mission():
    rs = load_rules(catalog=NO_CATALOG)
    product = rs.entity("product")
    assert product.fields["price_tax_excl"].direction == "to_prestashop"
    assert product.fields["price_tax_excl"].policy == "factusol_wins"
    assert rs.entity("stock").fields["quantity"].direction == "to_prestashop"
    assert rs.entity("customer").create == "to_factusol" and rs.entity("order").create == "to_factusol"
    customer = rs.entity("customer")
    assert customer.fields["email"].direction == "both" and customer.fields["email"].policy == "newest_wins"
    assert customer.fields["nif"].policy == "manual"
    assert customer.options["gdpr"]["on_delete"] == "anonymise"
    assert rs.vat_rates[0] == 21


def test_missing_catalog_files_skip_the_column_check(tmp_path):
    catalog = load_column_catalog(tmp_path / "nope.json", tmp_path / "nope.sql")
    assert catalog.factusol is None and catalog.prestashop is None
    assert catalog.check("factusol", "F_XXX.NOPE") is None


def test_yaml_syntax_error_position(tmp_path):
    p = write(
        tmp_path,
        "customer.yaml",
        """
        entity: customer
        fields:
          email: {factusol: F_CLI.EMACLI
    """,
    )
    [msg] = problems(p)
    assert msg.startswith(f"{p}:4:1: YAML syntax")


def test_unknown_top_level_key(tmp_path):
    p = write(
        tmp_path,
        "address.yaml",
        """
        entity: address
        colour: blue
        fields: {}
    """,
    )
    assert problems(p) == [f"{p}:2:1: unknown key 'colour'"]


def test_bad_enum_value_points_at_the_value(tmp_path):
    p = write(
        tmp_path,
        "address.yaml",
        """
        entity: address
        fields:
          city:
            factusol: {column: F_OBR.POBOBR, fit: truncate}
            policy: loudest_wins
    """,
    )
    [msg] = problems(p)
    assert msg.startswith(f"{p}:5:13: fields.city.policy: 'loudest_wins' is not one of")


def test_unknown_canonical_field(tmp_path):
    p = write(
        tmp_path,
        "customer.yaml",
        """
        entity: customer
        codes: {registered: {from: 1, to: 10}, guests: {single: 99}}
        gdpr: {on_delete: keep}
        fields:
          email: {prestashop: customer.email}
          shoe_size:
            prestashop: customer.note
    """,
    )
    [msg] = problems(p)
    assert msg.startswith(f"{p}:6:3: unknown canonical field 'shoe_size' for entity customer")


def test_unknown_columns_are_reported_when_the_catalog_is_known(tmp_path):
    catalog = ColumnCatalog(factusol={"F_OBR": {"POBOBR": 30}}, prestashop={"address": {"city": 64}})
    p = write(
        tmp_path,
        "address.yaml",
        """
        entity: address
        fields:
          city:
            factusol: {column: F_OBR.POBOXX, fit: truncate}
            prestashop: address.town
          street:
            factusol: {column: F_XYZ.DIROBR, fit: truncate}
    """,
    )
    assert problems(p, catalog) == [
        f"{p}:4:24: unknown FactuSOL column 'F_OBR.POBOXX'",
        f"{p}:5:17: unknown PrestaShop column 'address.town'",
        f"{p}:7:24: unknown FactuSOL table 'F_XYZ' in 'F_XYZ.DIROBR'",
    ]


def test_overlapping_customer_code_ranges(tmp_path):
    p = write(
        tmp_path,
        "customer.yaml",
        """
        entity: customer
        codes:
          registered: {from: 1000, to: 5000}
          guests: {from: 4000, to: 9000}
        gdpr: {on_delete: keep}
        fields: {}
    """,
    )
    assert problems(p) == [f"{p}:4:3: guest codes 4000-9000 overlap registered codes 1000-5000"]


def test_single_guest_code_inside_registered_range(tmp_path):
    p = write(
        tmp_path,
        "customer.yaml",
        """
        entity: customer
        codes:
          registered: {from: 1000, to: 5000}
          guests: {single: 1234}
        gdpr: {on_delete: block}
        fields: {}
    """,
    )
    assert problems(p) == [f"{p}:4:20: guest code 1234 lies inside the registered range 1000-5000"]


def test_delta_on_a_text_field(tmp_path):
    p = write(
        tmp_path,
        "customer.yaml",
        """
        entity: customer
        codes: {registered: {from: 1, to: 10}, guests: {single: 99}}
        gdpr: {on_delete: keep}
        fields:
          email:
            factusol: {column: F_CLI.EMACLI, fit: reject, width: 255}
            prestashop: customer.email
            policy: delta
    """,
    )
    [msg] = problems(p)
    assert msg == f"{p}:8:13: policy delta needs a numeric field; customer.email is str"


def test_policy_that_can_never_apply_for_the_direction(tmp_path):
    p = write(
        tmp_path,
        "product.yaml",
        """
        entity: product
        direction: to_prestashop
        fields:
          cost_price:
            factusol: F_ART.PCOART
            prestashop: product.wholesale_price
            policy: prestashop_wins
    """,
    )
    assert problems(p) == [f"{p}:7:13: policy prestashop_wins can never apply: the field only flows to_prestashop"]


def test_value_map_missing_a_state(tmp_path):
    p = write(
        tmp_path,
        "order.yaml",
        """
        entity: order
        series: "1"
        warehouse: GEN
        shipping: {mode: portes}
        fields:
          state:
            factusol: {column: F_PCL.ESTPCL, map: states}
        value_maps:
          states:
            domain: order_state
            entries:
              pending: {factusol: 0, prestashop: [PS_OS_PAYMENT, PS_OS_CHEQUE, PS_OS_BANKWIRE, PS_OS_COD_VALIDATION,
                                                  PS_OS_WS_PAYMENT, PS_OS_OUTOFSTOCK, PS_OS_OUTOFSTOCK_PAID,
                                                  PS_OS_OUTOFSTOCK_UNPAID, PS_OS_PREPARATION]}
              shipped: {factusol: [1, 2, 3], prestashop: [PS_OS_SHIPPING, PS_OS_DELIVERED, PS_OS_REFUND]}
              cancelled: {prestashop: [PS_OS_CANCELED, PS_OS_ERROR]}
    """,
    )
    assert problems(p) == [f"{p}:11:5: value map states (order_state) is missing factusol state 4"]


def test_same_side_value_in_two_entries(tmp_path):
    p = write(
        tmp_path,
        "shipment.yaml",
        """
        entity: shipment
        fields:
          carrier: {factusol: {column: F_ALB.TRNALB, map: carriers}}
        value_maps:
          carriers:
            entries:
              fast: {factusol: 1}
              slow: {factusol: 1}
    """,
    )
    assert problems(p) == [
        f"{p}:8:24: value map carriers: factusol value 1 is in both 'fast' and 'slow'; "
        "a side value can mean only one canonical value"
    ]


def test_undefined_value_map_and_missing_fit(tmp_path):
    p = write(
        tmp_path,
        "address.yaml",
        """
        entity: address
        fields:
          country_iso: {factusol: {column: F_OBR.PAIOBR, map: countrys}}
          city:
            factusol: {column: F_OBR.POBOBR, width: 30}
    """,
    )
    assert problems(p) == [
        f"{p}:3:55: value map 'countrys' is not defined in this file's value_maps",
        f"{p}:5:24: F_OBR.POBOBR holds 30 characters: say fit: truncate or fit: reject (or defaults: fit:)"
        " for field city",
    ]


def test_entity_only_key_and_required_keys(tmp_path):
    p = write(
        tmp_path,
        "stock.yaml",
        """
        entity: stock
        warehouses: all
        series: "1"
        fields: {}
    """,
    )
    assert problems(p) == [
        f"{p}:1:9: stock rules need 'formula'",
        f"{p}:3:1: 'series' belongs in order rules, not stock",
    ]


def test_duplicate_entity_and_tracking_source_cross_check(tmp_path):
    write(tmp_path, "a.yaml", "entity: invoice\nfields: {}\n")
    b = write(tmp_path, "b.yaml", "entity: invoice\nfields: {}\n")
    write(
        tmp_path,
        "order.yaml",
        """
        entity: order
        series: "1"
        warehouse: GEN
        shipping: {mode: portes, tracking_source: TRCALB}
        fields: {}
    """,
    )
    s = write(
        tmp_path,
        "shipment.yaml",
        """
        entity: shipment
        fields:
          tracking_number: {factusol: F_ALB.CISALB}
    """,
    )
    found = [str(p) for p in check_rules(tmp_path, catalog=NO_CATALOG)]
    assert found == [
        f"{b}:1:9: entity invoice is already defined in {tmp_path / 'a.yaml'}",
        f"{s}:3:31: tracking_number reads F_ALB.CISALB but order.yaml shipping.tracking_source is TRCALB",
    ]


def test_load_rules_raises_with_every_problem(tmp_path):
    write(tmp_path, "x.yaml", "entity: nothing\nfields: {}\n")
    write(tmp_path, "y.yaml", "entity: address\nfields: {bogus: {}}\n")
    with pytest.raises(RulesError) as exc:
        load_rules(tmp_path, catalog=NO_CATALOG)
    errs = exc.value.errors
    assert [(Path(e.file).name, e.line, e.col) for e in errs] == [("x.yaml", 1, 9), ("y.yaml", 2, 10)]
    assert all(isinstance(e, RuleProblem) for e in errs)


def test_rules_check_main_prints_and_returns(tmp_path):
    bad = write(tmp_path, "address.yaml", "entity: address\ncolour: blue\nfields: {}\n")
    out = io.StringIO()
    assert rules_check_main([str(bad)], out=out) == 1
    assert out.getvalue() == f"{bad}:2:1: unknown key 'colour'\n"
    out = io.StringIO()
    assert rules_check_main([], out=out) == 0
    assert "rules OK" in out.getvalue()


def test_every_default_file_has_the_schema_comment():
    for f in DEFAULT_RULES_DIR.glob("*.yaml"):
        assert f.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=./rules.schema.json")
