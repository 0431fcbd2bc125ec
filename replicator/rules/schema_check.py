"""The JSON Schema check of one rule file (`rules.schema.json`): each error placed at the node it is about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from .source import DEFAULT_RULES_DIR, RuleFile, original_key, plain, pos

SCHEMA_FILE = "rules.schema.json"

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
            k = original_key(node, step)
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


def schema_check(f: RuleFile, schema: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    data = plain(f.data)
    errors = [e for top in validator.iter_errors(data) for e in _branch_errors(top)]
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
