"""Load rule files: YAML with positions, JSON Schema check, semantic checks, then build the RuleSet.

Every problem is reported with file, line and column of the offending node (1-based), all at once.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import jsonschema
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from replicator.model import ENTITIES, canonical_fields
from replicator.yamlsafe import YamlLimitError, read_yaml

from .columns import ColumnCatalog, load_column_catalog
from .errors import RuleProblem, RulesError
from .fit import FitPolicy, set_policies
from .ruleset import EntityRules, FieldRule, RuleSet, SideMap, ValueMap, writes


def _default_rules_dir() -> Path:
    """`rules/` beside the package in a checkout, else the copy an installed package carries."""
    here = Path(__file__).resolve()
    candidates = (here.parents[2] / "rules", here.parents[1] / "default_rules")
    return next((c for c in candidates if c.is_dir()), candidates[0])


DEFAULT_RULES_DIR = _default_rules_dir()
SCHEMA_FILE = "rules.schema.json"

# Codes each side must cover in a value map that declares a domain ("value map missing a state").
PS_ORDER_STATES = [
    "PS_OS_CHEQUE",
    "PS_OS_PAYMENT",
    "PS_OS_PREPARATION",
    "PS_OS_SHIPPING",
    "PS_OS_DELIVERED",
    "PS_OS_CANCELED",
    "PS_OS_REFUND",
    "PS_OS_ERROR",
    "PS_OS_OUTOFSTOCK",
    "PS_OS_OUTOFSTOCK_PAID",
    "PS_OS_BANKWIRE",
    "PS_OS_WS_PAYMENT",
    "PS_OS_OUTOFSTOCK_UNPAID",
    "PS_OS_COD_VALIDATION",
]
DOMAINS: dict[str, dict[str, list]] = {
    "order_state": {"factusol": [0, 1, 2, 3, 4], "prestashop": PS_ORDER_STATES},  # ESTPCL codes
    "invoice_state": {"factusol": [0, 1, 2, 3, 4]},  # ESTFAC codes
    "vat_selector": {"factusol": [0, 1, 2, 3]},
    "boolean": {"canonical": [True, False]},
}

# Top-level keys that only make sense for some entities.
ENTITY_ONLY = {
    "codes": {"customer"},
    "gdpr": {"customer"},
    "warehouses": {"stock"},
    "formula": {"stock"},
    "subtract_unsynced_shop_orders": {"stock"},
    "negative_as_zero": {"stock"},
    "variants": {"stock", "product"},
    "tariff": {"product"},
    "on_filter_exit": {"product"},
    "categories": {"product"},
    "combinations": {"product"},
    "series": {"order"},
    "warehouse": {"order"},
    "shipping": {"order"},
    "line_fields": {"order"},
    "events": {"order", "invoice"},
}
FILTER_ONLY = {
    "families": {"product", "stock"},
    "publish_flag": {"product", "stock"},
    "customer_groups": {"customer"},
    "include_guests": {"customer", "order"},
}
REQUIRED = {
    "customer": ["codes", "gdpr"],
    "stock": ["warehouses", "formula"],
    "order": ["series", "warehouse", "shipping"],
}


# ---------------------------------------------------------------- YAML and positions


def rule_files(paths_or_dir: str | Path | Iterable[str | Path] | None = None) -> list[Path]:
    """The rule files named: directories expand to their *.yaml / *.yml files (sorted)."""
    if paths_or_dir is None:
        paths_or_dir = [DEFAULT_RULES_DIR]
    elif isinstance(paths_or_dir, (str, Path)):
        paths_or_dir = [paths_or_dir]
    files: list[Path] = []
    for p in map(Path, paths_or_dir):
        if p.is_dir():
            files.extend(sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return files


def pos(node: Any, key: Any) -> tuple[int, int]:
    """1-based (line, col) of node[key]: the value when it is a scalar, else the key (where a reader looks)."""
    try:
        if isinstance(node, CommentedSeq):
            line, col = node.lc.item(key)
        elif isinstance(node[key], (CommentedMap, CommentedSeq)):
            line, col = node.lc.key(key)
        else:
            line, col = node.lc.value(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 1, 1


def key_pos(node: CommentedMap, key: Any) -> tuple[int, int]:
    try:
        line, col = node.lc.key(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def _plain(node: Any) -> Any:
    """JSON-like copy for the schema validator (string keys, plain numbers)."""
    if isinstance(node, dict):
        return {str(k).lower() if isinstance(k, bool) else str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return node if not isinstance(node, str) else str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _py(value: Any) -> Any:
    """Scalar from YAML to the value the engine uses: floats become Decimal (money, rates)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        return str(value)
    return value


def _original_key(node: dict, key: str) -> Any:
    for k in node:
        if (str(k).lower() if isinstance(k, bool) else str(k)) == key:
            return k
    return key


class _File:
    """One rule file being checked: its parsed data and the problems found in it."""

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        self.data: Any = None
        self.problems: list[RuleProblem] = []

    def add(self, line_col: tuple[int, int], message: str) -> None:
        self.problems.append(RuleProblem(self.name, line_col[0], line_col[1], message))

    def at(self, node: Any, key: Any, message: str) -> None:
        self.add(pos(node, key), message)

    def at_key(self, node: Any, key: Any, message: str) -> None:
        self.add(key_pos(node, key), message)


def _load_yaml(f: _File) -> None:
    try:
        f.data = read_yaml(f.path)
    except OSError as e:
        f.add((1, 1), f"cannot read rule file: {e.strerror or e}")
        return
    except YamlLimitError as e:
        f.add((e.problem.line, e.problem.col), e.problem.message)
        return
    if not isinstance(f.data, CommentedMap):
        f.add((1, 1), "a rule file must be a mapping with at least 'entity' and 'fields'")
        f.data = None


# ---------------------------------------------------------------- JSON Schema

_schema_cache: dict[Path, Any] = {}


def load_schema(path: Path | None = None) -> dict:
    path = path or DEFAULT_RULES_DIR / SCHEMA_FILE
    if path not in _schema_cache:
        _schema_cache[path] = json.loads(path.read_text(encoding="utf-8"))
    return _schema_cache[path]


def _locate(root: Any, path: list) -> tuple[Any, Any]:
    """(parent node, key) of the node at a jsonschema path; (None, None) for the root."""
    parent, key, node = None, None, root
    for step in path:
        if isinstance(node, dict):
            k = _original_key(node, step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            k = step
        else:
            break
        parent, key, node = node, k, node[k]
    return parent, key


def _schema_message(err: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "enum":
        msg = f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    elif err.validator == "oneOf" and err.context:
        best = jsonschema.exceptions.best_match(err.context)
        msg = best.message
    else:
        msg = err.message
    return f"{where}: {msg}" if where else msg


def _branch_errors(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors of the oneOf/anyOf branch the value was meant for (a mapping where a mapping is allowed),
    so a bad sub-key inside `factusol: {…}` is named at the sub-key, not as "is not of type 'string'"."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    meant = [e for e in err.context if e.validator != "type" and not (e.validator == "$ref" and not e.context)]
    if (
        not meant
        or len({tuple(e.relative_schema_path)[:1] for e in meant}) > 1
        and all(e.validator == "required" for e in meant)
    ):
        return [err]  # e.g. neither `column` nor `join`: the oneOf's own message says it best
    if any(e.validator == "additionalProperties" for e in meant):  # `colum:` explains the missing `column:`
        meant = [e for e in meant if e.validator not in ("required", "oneOf")]
    return [sub for e in meant for sub in _branch_errors(e)]


def _schema_check(f: _File, schema: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    plain = _plain(f.data)
    errors = [e for top in validator.iter_errors(plain) for e in _branch_errors(top)]
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        parent, key = _locate(f.data, list(err.absolute_path))
        node = f.data if parent is None else parent[key]
        if err.validator == "additionalProperties" and isinstance(node, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in node if str(k) not in allowed]
            for k in extra:
                f.at_key(
                    node,
                    k,
                    f"unknown key {str(k)!r}"
                    + (f" in {'.'.join(map(str, err.absolute_path))}" if err.absolute_path else ""),
                )
            if extra:
                continue
        if err.validator == "required" and parent is None and key is None:
            f.add((1, 1), err.message)
            continue
        f.add(pos(parent, key) if parent is not None else (1, 1), _schema_message(err))


# ---------------------------------------------------------------- semantic checks


def _field_type(entity: str, name: str) -> str:
    for fld in dataclasses.fields(ENTITIES[entity]):
        if fld.name == name:
            return str(fld.type)
    return ""


def is_numeric(entity: str, name: str) -> bool:
    t = _field_type(entity, name)
    return "bool" not in t and bool(re.search(r"\b(Decimal|int|float)\b", t))


def is_text(entity: str, name: str) -> bool:
    return re.fullmatch(r"str( \| None)?", _field_type(entity, name)) is not None


def _side_columns(spec: Any) -> list[tuple[Any, Any, str]]:
    """(node, key, column) of every column named by a side spec, for positions."""
    if isinstance(spec, str):
        return []
    out = []
    if isinstance(spec, dict):
        if "column" in spec:
            out.append((spec, "column", spec["column"]))
        for i, c in enumerate(spec.get("join") or []):
            out.append((spec["join"], i, c))
    return out


def _check_fields(
    f: _File,
    entity: str,
    fields: CommentedMap,
    data: CommentedMap,
    catalog: ColumnCatalog,
    maps: dict[str, tuple[_File, CommentedMap]],
) -> None:
    known = canonical_fields(entity)
    defaults = data.get("defaults") or {}
    entity_dir = data.get("direction", "both")
    written: dict[tuple[str, str], str] = {}
    for name, spec in fields.items():
        if name not in known:
            f.at_key(
                fields,
                name,
                f"unknown canonical field {name!r} for entity {entity} (known: {', '.join(sorted(known))})",
            )
            continue
        spec = spec or CommentedMap()
        direction = spec.get("direction", entity_dir)
        policy = spec.get("policy", defaults.get("policy", "manual"))
        where_policy = (spec, "policy") if "policy" in spec else (fields, name)
        # Conflict policy against the field's type and direction.
        if policy == "delta" and not is_numeric(entity, name):
            f.at(
                *where_policy,
                f"policy delta needs a numeric field; {entity}.{name} is {_field_type(entity, name) or 'not numeric'}",
            )
        elif policy == "delta" and direction != "both":
            f.at(
                *where_policy,
                f"policy delta needs direction both (both sides must receive the combined value), not {direction}",
            )
        elif policy == "prestashop_wins" and direction == "to_prestashop":
            f.at(*where_policy, "policy prestashop_wins can never apply: the field only flows to_prestashop")
        elif policy == "factusol_wins" and direction == "to_factusol":
            f.at(*where_policy, "policy factusol_wins can never apply: the field only flows to_factusol")
        for side in ("factusol", "prestashop"):
            side_spec = spec.get(side)
            if side_spec is None:
                continue
            cols = [(spec, side, side_spec)] if isinstance(side_spec, str) else _side_columns(side_spec)
            for node, key, col in cols:
                why = catalog.check(side, col)
                if why:
                    f.at(node, key, why)
                if writes(direction, side):
                    if (side, col) in written:
                        f.at(node, key, f"column {col} is written by both {written[side, col]} and {name}")
                    written[side, col] = name
            opts = side_spec if isinstance(side_spec, dict) else {}
            if opts.get("map"):
                ref = opts["map"]
                ent, _, local = ref.rpartition(".")
                if ent and ent not in maps:
                    pass  # the other entity's file is not part of this check; resolved at run time
                elif local not in (maps.get(ent or entity, (None, {}))[1] or {}):
                    f.at(
                        opts, "map", f"value map {ref!r} is not defined" + ("" if ent else " in this file's value_maps")
                    )
            for k in ("vat_selector_field", "vat_rate_field"):
                if opts.get(k) and opts[k] not in known:
                    f.at(opts, k, f"{k} {opts[k]!r} is not a canonical field of {entity}")
            if opts.get("vat_included") and not (opts.get("vat_selector_field") or opts.get("vat_rate_field")):
                f.at(
                    side_spec,
                    "vat_included",
                    "vat_included needs vat_selector_field or vat_rate_field to know the rate",
                )
            if side == "factusol" and is_text(entity, name) and writes(direction, "factusol") and not opts.get("map"):
                # Every text written to a FactuSOL column of known width needs an explicit policy for overflow.
                col = opts.get("column", side_spec if isinstance(side_spec, str) else None)
                width = opts.get("width") or (catalog.width(col) if col else None)
                if width and opts.get("fit", defaults.get("fit")) is None:
                    where = (side_spec, "column") if isinstance(side_spec, dict) else (spec, side)
                    f.at(
                        *where,
                        f"{col} holds {width} characters: say fit: truncate or fit: reject "
                        f"(or defaults: fit:) for field {name}",
                    )


def _check_value_maps(f: _File, vmaps: CommentedMap) -> None:
    for mname, vm in (vmaps or {}).items():
        entries = vm.get("entries") or {}
        seen: dict[tuple[str, Any], Any] = {}
        for canonical, sides in entries.items():
            for side, vals in sides.items():
                vals_list = vals if isinstance(vals, list) else [vals]
                for v in vals_list:
                    k = (side, str(v).casefold() if isinstance(v, str) else v)
                    if k in seen and seen[k] != canonical:
                        f.at(
                            sides,
                            side,
                            f"value map {mname}: {side} value {v!r} is in both {seen[k]!r} and {canonical!r}; "
                            "a side value can mean only one canonical value",
                        )
                    seen[k] = canonical
        domain = vm.get("domain")
        for side, required in DOMAINS.get(domain, {}).items():
            fallback = vm.get("fallback") or {}
            if side == "canonical":
                have = {k for k in entries}
                missing = [v for v in required if v not in have]
            else:
                if side in fallback and side != "canonical" and "canonical" in fallback:
                    continue
                have = {(str(v).casefold() if isinstance(v, str) else v) for (s, v) in seen if s == side}
                missing = [v for v in required if (str(v).casefold() if isinstance(v, str) else v) not in have]
            if missing:
                label = {"order_state": "state", "invoice_state": "state"}.get(domain, "value")
                f.at_key(
                    vm,
                    "entries",
                    f"value map {mname} ({domain}) is missing {side} {label}"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}",
                )


def _check_file(f: _File, catalog: ColumnCatalog, maps: dict) -> None:
    data = f.data
    entity = data["entity"]
    for key in data:
        if key in ENTITY_ONLY and entity not in ENTITY_ONLY[key]:
            f.at_key(data, key, f"{key!r} belongs in {' or '.join(sorted(ENTITY_ONLY[key]))} rules, not {entity}")
    for key in data.get("filters") or {}:
        if key in FILTER_ONLY and entity not in FILTER_ONLY[key]:
            f.at_key(
                data["filters"], key, f"filter {key!r} applies to {' or '.join(sorted(FILTER_ONLY[key]))}, not {entity}"
            )
    for key in REQUIRED.get(entity, []):
        if key not in data:
            f.at(data, "entity", f"{entity} rules need {key!r}")
    _check_value_maps(f, data.get("value_maps"))
    _check_fields(f, entity, data["fields"], data, catalog, maps)
    if "line_fields" in data:
        _check_fields(f, "order_line", data["line_fields"], data, catalog, maps)
    codes = data.get("codes")
    if codes:
        reg, guests = codes["registered"], codes["guests"]
        if reg["from"] > reg["to"]:
            f.at_key(codes, "registered", f"registered code range is empty: from {reg['from']} > to {reg['to']}")
        if "single" in guests:
            if reg["from"] <= guests["single"] <= reg["to"]:
                f.at(
                    guests,
                    "single",
                    f"guest code {guests['single']} lies inside the registered range {reg['from']}-{reg['to']}",
                )
        else:
            if guests["from"] > guests["to"]:
                f.at_key(codes, "guests", f"guest code range is empty: from {guests['from']} > to {guests['to']}")
            elif reg["from"] <= guests["to"] and guests["from"] <= reg["to"]:
                f.at_key(
                    codes,
                    "guests",
                    f"guest codes {guests['from']}-{guests['to']} overlap registered codes {reg['from']}-{reg['to']}",
                )
    gdpr = data.get("gdpr")
    if gdpr:
        for i, name in enumerate(gdpr.get("anonymise_fields") or []):
            if name not in canonical_fields(entity):
                f.at(gdpr["anonymise_fields"], i, f"unknown canonical field {name!r} in anonymise_fields")
    shipping = data.get("shipping")
    if shipping and shipping.get("mode") == "line" and not shipping.get("article"):
        f.at_key(
            data,
            "shipping",
            "shipping mode line needs the FactuSOL article code that carries the shipping cost (article:)",
        )


def _cross_checks(files: dict[str, _File]) -> None:
    """Checks that need two files: VAT rates available, tracking column agreeing with the order rule."""
    has_rates = any(f.data.get("vat_rates") for f in files.values())
    if not has_rates and "product" in files:
        for f in files.values():
            for section in ("fields", "line_fields"):
                for name, spec in (f.data.get(section) or {}).items():
                    for side in ("factusol", "prestashop"):
                        opts = (spec or {}).get(side)
                        if isinstance(opts, dict) and (opts.get("as_vat_selector") or opts.get("vat_selector_field")):
                            f.at_key(f.data[section], name, "this field needs vat_rates (declare them in product.yaml)")
    order, shipment = files.get("order"), files.get("shipment")
    if order and shipment:
        source = (order.data.get("shipping") or {}).get("tracking_source")
        spec = (shipment.data.get("fields") or {}).get("tracking_number") or {}
        fs = spec.get("factusol")
        col = fs if isinstance(fs, str) else (fs or {}).get("column")
        if source and col and col.upper() != f"F_ALB.{source}":
            node, key = (spec, "factusol") if isinstance(fs, str) else (fs, "column")
            shipment.at(node, key, f"tracking_number reads {col} but order.yaml shipping.tracking_source is {source}")


# ---------------------------------------------------------------- build


def _side_map(spec: Any) -> SideMap | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        return SideMap(columns=[str(spec)])
    kw = {k: _py(v) for k, v in spec.items() if k not in ("column", "join")}
    if "multiply" in kw:
        kw["multiply"] = Decimal(str(kw["multiply"]))
    join = "join" in spec
    return SideMap(columns=[str(c) for c in (spec["join"] if join else [spec["column"]])], join=join, **kw)


def _field_rules(f: _File, data: CommentedMap, section: str) -> dict[str, FieldRule]:
    defaults = data.get("defaults") or {}
    out = {}
    for name, spec in (data.get(section) or {}).items():
        spec = spec or {}
        fs = _side_map(spec.get("factusol"))
        if fs and fs.fit is None and defaults.get("fit"):
            fs.fit = defaults["fit"]
        line, col = key_pos(data[section], name)
        out[name] = FieldRule(
            name=name,
            direction=spec.get("direction", data.get("direction", "both")),
            policy=spec.get("policy", defaults.get("policy", "manual")),
            factusol=fs,
            prestashop=_side_map(spec.get("prestashop")),
            file=f.name,
            line=line,
            col=col,
        )
    return out


def _as_list(v: Any) -> list:
    return [_py(x) for x in v] if isinstance(v, list) else [_py(v)]


def _build_entity(f: _File) -> EntityRules:
    data = f.data
    vmaps = {}
    for mname, vm in (data.get("value_maps") or {}).items():
        entries = {_py(k): {side: _as_list(v) for side, v in sides.items()} for k, sides in vm["entries"].items()}
        vmaps[mname] = ValueMap(
            mname, entries, {k: _py(v) for k, v in (vm.get("fallback") or {}).items()}, vm.get("domain")
        )
    skip = {"entity", "version", "direction", "create", "fields", "line_fields", "value_maps", "filters", "defaults"}
    options = {k: _plain(v) for k, v in data.items() if k not in skip}
    if "vat_rates" in options:
        options["vat_rates"] = {int(k): Decimal(str(v)) for k, v in options["vat_rates"].items()}
    return EntityRules(
        name=data["entity"],
        file=f.name,
        direction=data.get("direction", "both"),
        create=data.get("create", "none"),
        fields=_field_rules(f, data, "fields"),
        value_maps=vmaps,
        filters=_plain(data.get("filters") or {}),
        options=options,
        line_fields=_field_rules(f, data, "line_fields"),
        defaults=_plain(data.get("defaults") or {}),
    )


def _run(
    paths_or_dir, catalog: ColumnCatalog | None, schema_path: Path | None
) -> tuple[list[RuleProblem], RuleSet | None]:
    catalog = catalog if catalog is not None else load_column_catalog()
    schema = load_schema(schema_path)
    files = [_File(p) for p in rule_files(paths_or_dir)]
    if not files:
        where = paths_or_dir if isinstance(paths_or_dir, (str, Path)) else DEFAULT_RULES_DIR
        return [RuleProblem(str(where), 1, 1, "no rule files (*.yaml) found")], None
    by_entity: dict[str, _File] = {}
    for f in files:
        _load_yaml(f)
        if f.data is None:
            continue
        _schema_check(f, schema)
        if f.problems:
            continue
        entity = f.data["entity"]
        if entity in by_entity:
            f.at(f.data, "entity", f"entity {entity} is already defined in {by_entity[entity].name}")
            continue
        by_entity[entity] = f
    maps = {e: (f, f.data.get("value_maps") or {}) for e, f in by_entity.items()}
    for f in by_entity.values():
        _check_file(f, catalog, maps)
    _cross_checks(by_entity)
    problems = sorted(p for f in files for p in f.problems)
    if problems:
        return problems, None
    ruleset = RuleSet(entities={}, files=[f.path for f in files], catalog=catalog)
    for e, f in by_entity.items():
        er = _build_entity(f)
        er.ruleset = ruleset
        ruleset.entities[e] = er
    return [], ruleset


def check_rules(
    paths: str | Path | Iterable[str | Path] | None = None,
    catalog: ColumnCatalog | None = None,
    schema_path: Path | None = None,
) -> list[RuleProblem]:
    """Every problem in the rule files (empty list when all is well); no PATH = the default rules dir."""
    return _run(paths, catalog, schema_path)[0]


def load_rules(
    paths_or_dir: str | Path | Iterable[str | Path] | None = None,
    catalog: ColumnCatalog | None = None,
    schema_path: Path | None = None,
) -> RuleSet:
    """Load and validate rule files into a RuleSet; raises RulesError listing every problem."""
    problems, ruleset = _run(paths_or_dir, catalog, schema_path)
    if problems:
        raise RulesError(problems)
    set_policies(fit_policies(ruleset))
    return ruleset


def fit_policies(ruleset: RuleSet) -> dict[str, FitPolicy]:
    """Each entity's strict-write policy (rules/fit.py) from its `defaults:`; reject and strip when unsaid."""
    out = {}
    for name, er in ruleset.entities.items():
        defaults = er.defaults
        out[name] = FitPolicy(
            fit=defaults.get("fit") or "reject", control_chars=defaults.get("control_chars") or "strip"
        )
    return out
