"""The import graph of the safsim package has no cycles.

Every ``import safsim...`` and ``from safsim... import ...`` counts, at module level and inside
functions alike (a deferred import still ties the two modules together); imports under
``if TYPE_CHECKING:`` do not, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "safsim"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The safsim modules imported anywhere in ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        # "safsim.a.b" may name a module, or an object in module "safsim.a".
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "safsim" or alias.name.startswith("safsim."):
                    target = resolve(alias.name)
                    if target:
                        found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = module.split(".")
                if not is_package:
                    base_parts = base_parts[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base == "safsim" or base.startswith("safsim."):
                for alias in node.names:
                    target = resolve(f"{base}.{alias.name}")
                    if target:
                        found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module name -> the safsim modules it imports."""
    files = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    known = set(files)
    return {
        name: _imports(ast.parse(path.read_text(encoding="utf-8"), str(path)), name, path.name == "__init__.py", known)
        for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, black) == grey:
                return [*stack[stack.index(nxt) :], nxt]
            if colour.get(nxt) == white:
                cycle = dfs(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = black
        return None

    for start in sorted(graph):
        if colour[start] == white:
            cycle = dfs(start)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_module_level_deferred_and_relative_imports() -> None:
    """The parser finds imports inside functions and skips TYPE_CHECKING blocks."""
    known = {"safsim", "safsim.a", "safsim.b", "safsim.c", "safsim.d"}
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import safsim.a\n"
        "if TYPE_CHECKING:\n"
        "    from safsim.d import X\n"
        "def f():\n"
        "    from safsim.b import thing\n"
        "    from . import c\n"
    )
    assert _imports(tree, "safsim.x", False, known) == {"safsim.a", "safsim.b", "safsim.c"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_safsim_has_no_import_cycles() -> None:
    """No chain of imports between safsim modules leads back to where it started."""
    graph = import_graph()
    assert "safsim.cli" in graph and "safsim.util" in graph
    # The package's own __init__ imports its API; only cycles among the other modules count,
    # since `import safsim.x` always runs safsim/__init__.py first anyway.
    inner = {m: {t for t in deps if t != "safsim"} for m, deps in graph.items() if m != "safsim"}
    cycle = find_cycle(inner)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_util_imports_nothing_from_safsim() -> None:
    """safsim.util is a leaf, so every module may use it."""
    assert import_graph()["safsim.util"] == set()
