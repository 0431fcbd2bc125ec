"""Load rule files into a RuleSet: read each file (`source`), check it (`schema_check`, `semantics`), then build
the entities' rules and the strict-write policies.

Every problem is reported with file, line and column of the offending node (1-based), all at once.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml.comments import CommentedMap

from .columns import ColumnCatalog, load_column_catalog
from .errors import RuleProblem, RulesError
from .fit import FitPolicy, set_policies
from .ruleset import EntityRules, FieldRule, RuleSet, SideMap, ValueMap
from .schema_check import load_schema, schema_check
from .semantics import check_file, cross_checks
from .source import DEFAULT_RULES_DIR, RuleFile, key_pos, load_yaml, plain, pos, rule_files, to_py

__all__ = ["DEFAULT_RULES_DIR", "check_rules", "fit_policies", "load_rules", "pos", "rule_files"]


def _side_map(spec: Any) -> SideMap | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        return SideMap(columns=[str(spec)])
    kw = {k: to_py(v) for k, v in spec.items() if k not in ("column", "join")}
    if "multiply" in kw:
        kw["multiply"] = Decimal(str(kw["multiply"]))
    join = "join" in spec
    return SideMap(columns=[str(c) for c in (spec["join"] if join else [spec["column"]])], join=join, **kw)


def _field_rules(f: RuleFile, data: CommentedMap, section: str) -> dict[str, FieldRule]:
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
    return [to_py(x) for x in v] if isinstance(v, list) else [to_py(v)]


def _build_entity(f: RuleFile) -> EntityRules:
    data = f.data
    vmaps = {}
    for mname, vm in (data.get("value_maps") or {}).items():
        entries = {to_py(k): {side: _as_list(v) for side, v in sides.items()} for k, sides in vm["entries"].items()}
        vmaps[mname] = ValueMap(
            mname, entries, {k: to_py(v) for k, v in (vm.get("fallback") or {}).items()}, vm.get("domain")
        )
    skip = {"entity", "version", "direction", "create", "fields", "line_fields", "value_maps", "filters", "defaults"}
    options = {k: plain(v) for k, v in data.items() if k not in skip}
    if "vat_rates" in options:
        options["vat_rates"] = {int(k): Decimal(str(v)) for k, v in options["vat_rates"].items()}
    return EntityRules(
        name=data["entity"],
        file=f.name,
        direction=data.get("direction", "both"),
        create=data.get("create", "none"),
        fields=_field_rules(f, data, "fields"),
        value_maps=vmaps,
        filters=plain(data.get("filters") or {}),
        options=options,
        line_fields=_field_rules(f, data, "line_fields"),
        defaults=plain(data.get("defaults") or {}),
    )


def _run(
    paths_or_dir, catalog: ColumnCatalog | None, schema_path: Path | None
) -> tuple[list[RuleProblem], RuleSet | None]:
    catalog = catalog if catalog is not None else load_column_catalog()
    schema = load_schema(schema_path)
    files = [RuleFile(p) for p in rule_files(paths_or_dir)]
    if not files:
        where = paths_or_dir if isinstance(paths_or_dir, (str, Path)) else DEFAULT_RULES_DIR
        return [RuleProblem(str(where), 1, 1, "no rule files (*.yaml) found")], None
    by_entity: dict[str, RuleFile] = {}
    for f in files:
        load_yaml(f)
        if f.data is None:
            continue
        schema_check(f, schema)
        if f.problems:
            continue
        entity = f.data["entity"]
        if entity in by_entity:
            f.at(f.data, "entity", f"entity {entity} is already defined in {by_entity[entity].name}")
            continue
        by_entity[entity] = f
    maps = {e: (f, f.data.get("value_maps") or {}) for e, f in by_entity.items()}
    for f in by_entity.values():
        check_file(f, catalog, maps)
    cross_checks(by_entity)
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
