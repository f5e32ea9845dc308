"""The modules of ``neurorx`` import one another without cycles (module-level imports only).

The graph has an edge ``a -> b`` for every ``import b`` / ``from b import x`` at the top level of module ``a``
(outside functions; ``if TYPE_CHECKING:`` blocks left out), with ``from b import x`` pointing at the submodule
``b.x`` when that is a module. Parent packages imported on the way are not edges: importing ``neurorx.a.b``
runs ``neurorx/__init__.py``, which imports nearly everything, and no module could then import another.
A function-local import is not an edge: the package keeps those for optional heavy dependencies only.
"""

import ast
import graphlib
from pathlib import Path

import neurorx

ROOT = Path(neurorx.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(tree: ast.Module):
    """Import statements outside functions and classes (through if/try/with blocks)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.With):
            stack += node.body


def import_graph() -> dict[str, set[str]]:
    """Module-level import graph of every module under ``neurorx/``: module -> modules it imports."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (``[a, b, ..., a]``), or ``None`` when it has none."""
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        return list(reversed(err.args[1]))
    return None


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert len(graph) > 50
    assert "neurorx.recording" in graph["neurorx.compare"]
    assert "neurorx.analysis.variance" in graph["neurorx.analysis.statistics"]     # a relative import
    assert "neurorx.sweep.job" in graph["neurorx.sweep.grid"]                       # from a package import a module


def test_a_cycle_would_be_found():
    graph = import_graph()
    graph["neurorx.recording"].add("neurorx.compare")
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and "neurorx.recording" in cycle


def test_neurorx_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, f"an import cycle in neurorx: {' -> '.join(cycle)}"
