"""Rules engine: rule files (YAML) → validated RuleSet, field transforms, three-way merge, hot reload."""

from .check import rules_check_main
from .columns import ColumnCatalog, load_column_catalog
from .decisions import anonymise, assign_customer_code, passes_filters, stock_quantity
from .errors import MappingError, RuleProblem, RulesError
from .loader import DEFAULT_RULES_DIR, check_rules, load_rules
from .merge import FieldConflict, MergeResult, merge, merge_entity, merge_field, resolve
from .ruleset import EntityRules, FieldRule, RuleSet, SideMap, ValueMap
from .transforms import apply_transforms, read_side
from .watcher import RulesWatcher

__all__ = [
    "ColumnCatalog",
    "DEFAULT_RULES_DIR",
    "EntityRules",
    "FieldConflict",
    "FieldRule",
    "MappingError",
    "MergeResult",
    "RuleProblem",
    "RuleSet",
    "RulesError",
    "RulesWatcher",
    "SideMap",
    "ValueMap",
    "anonymise",
    "apply_transforms",
    "assign_customer_code",
    "check_rules",
    "load_column_catalog",
    "load_rules",
    "merge",
    "merge_entity",
    "merge_field",
    "passes_filters",
    "read_side",
    "resolve",
    "rules_check_main",
    "stock_quantity",
]
