"""The package's import graph: modules and parts depend on each other one way only."""

from __future__ import annotations

import ast
from collections.abc import Container, Iterator
from pathlib import Path

import keycloak_duo_bridge

PACKAGE = Path(keycloak_duo_bridge.__file__).parent
NAME = "keycloak_duo_bridge"
KNOWN: frozenset[str] = frozenset()


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield ".".join((NAME, *parts)).removesuffix(".__init__"), path


def _imports(path: Path, known: Container[str]) -> Iterator[str]:
    """The ``known`` modules ``path`` imports, at any depth (inside functions too): for
    ``from package import name``, the submodule ``name`` if there is one, else the package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in known else node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def module_graph() -> dict[str, set[str]]:
    """Which of the package's modules imports which (a package counts as its ``__init__``)."""
    found = dict(_modules())
    return {
        module: {name for name in _imports(path, found) if name in found and name != module}
        for module, path in found.items()
    }


def _part(module: str) -> str:
    """The part a module belongs to: its subpackage, or itself at the top level."""
    return module.split(".")[1] if "." in module else module


def part_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Which part (subpackage or top-level module) imports which other part."""
    graph: dict[str, set[str]] = {}
    for module, targets in modules.items():
        source = _part(module)
        graph.setdefault(source, set()).update(
            _part(t) for t in targets if _part(t) not in {source, NAME}
        )
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every node that reaches itself again, with one path it takes."""
    found = []
    for start in sorted(graph):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    found.append([*path, start])
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_module_imports_itself_back() -> None:
    """No module of the package reaches itself through the imports of others."""
    assert cycles(module_graph()) == []


def test_no_part_imports_itself_back() -> None:
    """No subpackage or top-level module reaches itself through other parts (but KNOWN)."""
    assert [c for c in cycles(part_graph(module_graph())) if not set(c) <= KNOWN] == []


def test_only_the_root_knows_every_part() -> None:
    """The composition root imports the step-up bridge, the API and the console; no part
    imports the root but the programs that serve it."""
    graph = part_graph(module_graph())
    assert {"bridge", "api", "console"} <= graph["app"]
    assert sorted(p for p, targets in graph.items() if "app" in targets) == ["cli", "server"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check sees a cycle where there is one."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"], ["b", "a", "b"]]
