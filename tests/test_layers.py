"""Imports run one way: models → selectors/services → engine → tasks/consumers → views/APIs.

Every project module is parsed (imports inside functions included): there is no import cycle
between project modules, no import placed inside a function to dodge one, and no module imports
one of a higher layer.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Packages of the product (tests and benchmarks build on it and are not part of it).
PACKAGES = sorted(
    path.parent.name
    for path in ROOT.glob("*/__init__.py")
    if path.parent.name not in {"tests", "bench"}
)

# The layer of a module, by the last part of its name (higher may import lower, never back).
LAYER_BY_NAME = {
    "models": 0,
    "states": 0,
    "selectors": 1,
    "payloads": 1,
    "services": 2,
    "booking": 2,
    "follow_up": 2,
    "engine": 3,
    "tasks": 4,
    "consumers": 4,
    "views": 5,
    "api": 5,
    "urls": 6,
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = project_modules()


def _owner(name: str) -> str | None:
    """The project module an imported name lives in (`a.b.c` → `a.b` when c is a name in it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import in `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    in_function = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        # AppConfig.ready is Django's place to import what needs the app registry.
        and not (path.name == "apps.py" and function.name == "ready")
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            owner = _owner(name)
            if owner is not None and owner != module:
                found.append((owner, node.lineno, id(node) in in_function))
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> int | None:
    if module in ("config.urls", "config.asgi", "config.wsgi"):
        return LAYER_BY_NAME["urls"]  # the entry points see everything
    if module.startswith("config."):
        return 0  # settings, env readers and the Celery app: anything may import them
    if ".engine." in f".{module}.":
        return LAYER_BY_NAME["engine"]
    last = module.rpartition(".")[2]
    if last.endswith("_api"):
        return LAYER_BY_NAME["api"]
    return LAYER_BY_NAME.get(last)


def _cycle_through(start: str, component: set[str]) -> list[str]:
    """The shortest import path from `start` back to itself inside its component."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for target, _, _ in GRAPH[path[-1]]:
            if target == start:
                return [*path, start]
            if target in component and target not in seen:
                seen.add(target)
                paths.append([*path, target])
    raise AssertionError(f"{start} is in no cycle")


def find_cycles() -> list[list[str]]:
    """One cycle for each group of modules that import each other (Tarjan's components)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target, _, _ in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(_cycle_through(min(component), set(component)))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return cycles


def test_the_parser_sees_the_project_and_its_imports():
    # Guards the tests below against passing on an empty graph.
    assert {"config.settings", "core.events", "dispatch.engine.emergency"} <= set(MODULES)
    assert ("requests_app.services", False) in {
        (target, inner) for target, _, inner in GRAPH["dispatch.engine.emergency"]
    }


def test_no_two_project_modules_import_each_other_even_indirectly():
    cycles = find_cycles()
    assert cycles == [], "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_no_project_module_imports_another_inside_a_function():
    inner = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        for target, line, in_function in imports
        if in_function
    ]
    assert inner == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) is not None))
def test_a_module_imports_no_module_of_a_higher_layer(module):
    upward = [
        f"{module}:{line} imports {target}"
        for target, line, _ in GRAPH[module]
        if (layer_of(target) or 0) > layer_of(module)
    ]
    assert upward == []
