"""The package's import contract, read from the source (every import, function-local ones included).

Layers, highest first; a module imports only from its own layer or below:
cli/tui/the demo > sandbox, service (runner, installers), doctor > daemon > initial/workers > runtime/reload >
engine/resync > sync (and the capture service, which runs each side's capture source) > side packages/rules > capture
core > store > keys/model/config.
The database drivers are imported only inside the side packages, the two sides never import each other, and no
two modules import each other, directly or around a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = ("pyodbc", "pymysql", "pymysqlreplication")
SIDES = ("replicator.factusol", "replicator.prestashop")

# (module prefix, layer): the longest prefix that matches a module names its layer; a higher number is higher up.
LAYERS = [
    ("replicator.keys", 0),
    ("replicator.model", 0),
    ("replicator.config", 0),
    ("replicator.memo", 0),
    ("replicator.gil", 0),
    ("replicator", 0),
    ("replicator.masking", 0),
    ("replicator.logsetup", 0),
    ("replicator.store", 1),
    ("replicator.capture", 2),
    ("replicator.instance_lock", 2),
    ("replicator.service_state", 2),
    ("replicator.factusol", 3),
    ("replicator.prestashop", 3),
    ("replicator.rules", 3),
    ("replicator.sync", 4),
    ("replicator.capture.service", 4),
    ("replicator.engine", 5),
    ("replicator.resync", 5),
    ("replicator.runtime", 6),
    ("replicator.reload", 6),
    ("replicator.initial", 7),
    ("replicator.workers", 7),
    ("replicator.daemon", 8),
    ("replicator.sandbox", 9),
    ("replicator.hosting", 9),
    ("replicator.sandbox.demo", 10),
    ("replicator.service", 9),
    ("replicator.service.pause", 1),
    ("replicator.doctor", 9),
    ("replicator.cli", 10),
    ("replicator.cli_output", 10),
    ("replicator.__main__", 10),
    ("tui", 10),
]


def _modules() -> dict[str, Path]:
    out = {}
    for top in ("replicator", "tui"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def _layer(module: str) -> int | None:
    best = None
    for prefix, layer in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(name, path) if m in modules and m != name} for name, path in modules.items()}


def test_every_module_has_a_layer():
    assert [m for m in _modules() if _layer(m) is None] == []


def test_imports_only_go_down_the_layers():
    upward = [
        f"{name} ({_layer(name)}) imports {target} ({_layer(target)})"
        for name, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(name)
        # a package's __init__ may name its own submodules; its submodules may import their package
        and not target.startswith(name + ".")
        and not name.startswith(target + ".")
    ]
    assert upward == []


def test_the_two_sides_do_not_import_each_other():
    crossing = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target in sorted(targets)
        for side, other in (SIDES, SIDES[::-1])
        if (name == side or name.startswith(side + ".")) and (target == other or target.startswith(other + "."))
    ]
    assert crossing == []


def test_database_drivers_are_imported_only_inside_the_side_packages():
    outside = [
        f"{name} imports {module}"
        for name, path in _modules().items()
        if not any(name == side or name.startswith(side + ".") for side in SIDES)
        for module in sorted(_imports(name, path))
        if module.split(".")[0] in DRIVERS
    ]
    assert outside == []


def test_no_import_cycles():
    graph = _graph()
    # a package's __init__ importing its submodules is not a loop back to the package
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target) :] + [target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [])
    assert cycles == []
