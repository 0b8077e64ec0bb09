"""Every module under api/ says what it offers: ``__all__`` lists exactly its public names.

The rules, for every module under ``api/``:

- it defines ``__all__``, a list or tuple of string literals, without repeats;
- every name in ``__all__`` is bound at its top level (a definition, or an import in a package);
- every public name (no leading underscore) it *defines* at its top level, be it a class, a
  function, a constant or a type alias, is in ``__all__`` (a module's logger and its type
  variables are plumbing, not offers, and are let through);
- a module that is not a package ``__init__`` lists only what it defines: re-exporting is what
  packages (``api.models``, ``api.vetting``) are for, so a name has one home.

The modules are read, not imported (``api.asgi`` builds the whole app when imported), so what
counts is what the source binds at module level, including inside ``if``/``try`` blocks.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

API = REPO / "api"
MODULES = sorted(path for path in API.rglob("*.py") if ".venv" not in path.parts)


#: Calls whose result is plumbing rather than something a module offers.
PLUMBING_CALLS = frozenset({"getLogger", "TypeVar", "ParamSpec", "TypeVarTuple"})


@dataclass(frozen=True)
class ModuleNames:
    all_names: list[str] | None
    defined: set[str]
    imported: set[str]


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run at import: the module body, and the bodies of its if/try blocks
    (not ``if __name__ == "__main__"``, which runs only as a script)."""
    statements: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
                continue
            statements += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            statements += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
            for handler in node.handlers:
                statements += _top_level(handler.body)
        else:
            statements.append(node)
    return statements


def _targets(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple | ast.List):
        return [name for element in node.elts for name in _targets(element)]
    return []


def read_names(path: Path) -> ModuleNames:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    all_names: list[str] | None = None
    defined: set[str] = set()
    imported: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [name for target in targets for name in _targets(target)]
            if "__all__" in names:
                value = node.value
                assert isinstance(value, ast.List | ast.Tuple), f"{path}: __all__ must be a literal list or tuple"
                assert all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts), (
                    f"{path}: __all__ must hold string literals only"
                )
                all_names = [e.value for e in value.elts]  # type: ignore[attr-defined]
            if not _is_plumbing(node.value):
                defined.update(name for name in names if name != "__all__")
        elif isinstance(node, ast.TypeAlias) if hasattr(ast, "TypeAlias") else False:
            defined.add(node.name.id)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                imported.add(alias.asname or alias.name.split(".")[0])
    return ModuleNames(all_names, defined, imported)


def _is_plumbing(value: ast.expr | None) -> bool:
    """``log = logging.getLogger(__name__)``, ``T = TypeVar("T")``."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in PLUMBING_CALLS


def _public(name: str) -> bool:
    return not name.startswith("_")


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_the_module_lists_exactly_its_public_names_in_all(path: Path) -> None:
    names = read_names(path)
    module = _module_name(path)
    assert names.all_names is not None, f"{module} defines no __all__"
    listed = names.all_names
    assert len(listed) == len(set(listed)), f"{module}.__all__ repeats {sorted({n for n in listed if listed.count(n) > 1})}"
    unbound = sorted(set(listed) - names.defined - names.imported)
    assert not unbound, f"{module}.__all__ names what it does not define or import: {unbound}"
    unlisted = sorted(name for name in names.defined if _public(name) and name not in listed)
    assert not unlisted, f"{module} defines public names missing from __all__: {unlisted}"
    if path.name != "__init__.py":
        reexported = sorted(set(listed) - names.defined)
        assert not reexported, f"{module}.__all__ re-exports {reexported}: only a package __init__ re-exports"


def test_the_walk_sees_every_layer_and_the_checks_can_fail(tmp_path: Path) -> None:
    """The walk reaches subpackages, and each rule catches its own drift."""
    seen = {_module_name(path) for path in MODULES}
    assert {"api", "api.models", "api.models.listings", "api.vetting.net", "api.vetting.links", "api.services"} <= seen

    drifted = tmp_path / "drifted.py"
    drifted.write_text(
        "from os import path\n"
        "__all__ = ['Listed', 'missing', 'path']\n"
        "class Listed: ...\n"
        "def forgotten(): ...\n"
        "LIMIT = 3\n"
        "try:\n    FALLBACK = 1\nexcept ImportError:\n    FALLBACK = 2\n"
        "_private = 4\n"
        "import logging\nlog = logging.getLogger(__name__)\n"
        "if __name__ == '__main__':\n    script_only = 5\n"
    )
    names = read_names(drifted)
    assert names.all_names == ["Listed", "missing", "path"]
    assert set(names.all_names) - names.defined - names.imported == {"missing"}
    assert {n for n in names.defined if _public(n)} - set(names.all_names) == {"forgotten", "LIMIT", "FALLBACK"}
    assert set(names.all_names) - names.defined == {"missing", "path"}


# --- every name a module reads is bound ------------------------------------------------------

#: What every module has without binding it.
MODULE_DUNDERS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__package__", "__loader__", "__builtins__"})


def unbound_names(source: str, filename: str) -> set[str]:
    """Global names the module's code reads (at top level, in functions, classes and
    comprehensions) that it never binds (by definition, assignment, import or a ``global``
    statement) and that are not builtins: each is a NameError waiting for its code path.

    A module split in two keeps its code and can lose an import; no test may happen to run
    the one line that needs it (``normalize_url`` and an IPv6 host lost ``ipaddress`` so).
    """
    top = symtable.symtable(source, filename, "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    read = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    tables = list(top.get_children())
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            if symbol.is_declared_global() and symbol.is_assigned():
                bound.add(symbol.get_name())
            if symbol.is_referenced() and symbol.is_global():
                read.add(symbol.get_name())
    return read - bound - set(dir(builtins)) - MODULE_DUNDERS


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_every_name_a_module_reads_is_bound(path: Path) -> None:
    assert unbound_names(path.read_text(encoding="utf-8"), str(path)) == set()


def test_unbound_names_are_found_in_every_kind_of_scope() -> None:
    source = (
        "from __future__ import annotations\n"
        "import os\n"
        "class A:\n"
        "    x = in_class\n"
        "    def m(self) -> OnlyAnAnnotation:\n"
        "        return os.path, in_method, len, __name__\n"
        "def f():\n"
        "    global made_here\n"
        "    made_here = 1\n"
        "    return [in_comprehension for _ in iterated]\n"
        "at_top = made_here + missing_at_top\n"
    )
    assert unbound_names(source, "drifted.py") == {"in_class", "in_method", "in_comprehension", "iterated", "missing_at_top"}
