"""Applications use the public API only: benchmarks/, protocols/ and the python code of docs/*.md.

Public is what a user is shown: the top-level ``neurorx`` namespace, every module and object the API reference
documents (a ``::: name`` directive in ``docs/api/*.md``), and the ``__all__`` of a documented module or of a
package. An application that imports a private name (a leading underscore anywhere in the path) or a module the
reference does not show depends on internals that can change without notice.
"""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = frozenset(m.group(1) for page in (ROOT / "docs" / "api").glob("*.md")
                       for m in re.finditer(r"^::: *([\w.]+)", page.read_text(encoding="utf-8"), re.M))


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _is_package(name: str) -> bool:
    mod = _module(name)
    return mod is not None and hasattr(mod, "__path__")


def _public_module(name: str) -> bool:
    """A module a user may import: ``neurorx``, a documented module, the module of a documented object, or a
    package (the ``__all__`` of each is its API)."""
    if any(part.startswith("_") for part in name.split(".")):
        return False
    return (name == "neurorx" or name in DOCUMENTED or any(d.startswith(name + ".") for d in DOCUMENTED)
            or _is_package(name))


def _public_name(module: str, name: str) -> bool:
    """``from module import name`` reaches the public API."""
    if name.startswith("_") or any(part.startswith("_") for part in module.split(".")):
        return False
    if f"{module}.{name}" in DOCUMENTED or _public_module(f"{module}.{name}"):
        return True
    if not _public_module(module):
        return False
    mod = _module(module)
    exported = getattr(mod, "__all__", None)
    return exported is None or name in exported


def problems(source: str) -> list[str]:
    """The imports of ``source`` that are not public, as ``"line N: import ..."``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "neurorx" and not _public_module(alias.name):
                    out.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "neurorx":
            for alias in node.names:
                if not _public_name(node.module, alias.name):
                    out.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    return out


def _doc_blocks(path: Path) -> list[str]:
    """The python code blocks of a Markdown page (doctest prompts removed)."""
    blocks = re.findall(r"^```(?:python|py)\s*\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)
    return ["\n".join(line[4:] if line.startswith((">>> ", "... ")) else line for line in b.splitlines())
            for b in blocks]


SCRIPTS = sorted([*(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "protocols").rglob("*.py")])
PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_the_check_knows_public_from_private():
    assert problems("import neurorx as nrx\nfrom neurorx.analysis import energy_distance") == []
    assert problems("from neurorx.sweep.runner import sweep") == []                    # a documented object
    assert problems("from neurorx.backends.brian2 import _codegen") == ["line 1: from neurorx.backends.brian2 "
                                                                        "import _codegen"]
    assert problems("from neurorx.analysis._validate import check_seed")              # a private module
    assert problems("from neurorx.sweep.runner import gather_results")                # not in its __all__
    assert problems("import neurorx.analysis.health")                                 # not in the reference


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_import_public_names_only(path):
    assert problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_code_imports_public_names_only(path):
    found = []
    for i, block in enumerate(_doc_blocks(path)):
        try:
            found += [f"block {i + 1}, {p}" for p in problems(block)]
        except SyntaxError:
            continue            # a fragment (e.g. an elided call); its imports are checked where it is complete
    assert found == []
