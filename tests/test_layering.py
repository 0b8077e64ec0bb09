"""The import graph of ``api``: no cycles, and the layers point one way.

Imports are read from the source with ``ast`` (module level and inside functions alike, so
a lazy import cannot hide a cycle or a wrong-way dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

API = Path(__file__).resolve().parent.parent / "api"


def _module_name(path: Path) -> str:
    parts = path.relative_to(API.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(API.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The api module an imported name lives in (``api.services.tokens.create_token`` ->
    ``api.services.tokens``), or None outside the package."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        found |= {target for name in names if (target := _resolve(name)) is not None and target != module}
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def _reaches(start: str, goal_prefix: str) -> list[str] | None:
    """A path of imports from ``start`` to a module under ``goal_prefix``, if there is one."""
    seen, stack = set(), [[start]]
    while stack:
        path = stack.pop()
        for nxt in sorted(GRAPH[path[-1]]):
            if nxt == goal_prefix or nxt.startswith(goal_prefix + "."):
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append([*path, nxt])
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [node])):
            return cycle
    return None


def test_the_graph_sees_lazy_and_relative_imports():
    assert "api.services.tokens" in GRAPH["api.cli"]  # imported inside a click command
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_api_has_no_import_cycle():
    assert find_cycle(GRAPH) is None


WEB = ("api.app", "api.http", "api.routes")
"""The web layer: the wiring, the HTTP concerns, the controllers."""


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def test_the_cli_never_imports_the_web_layer():
    assert not [m for m in GRAPH["api.cli"] if _is_under(m, WEB)], GRAPH["api.cli"]


def test_the_cli_reaches_the_routes_only_to_render_the_spec():
    """``actiondir openapi`` renders the spec of a built app (api.committed_spec); nothing else
    the CLI does reaches the web layer, even indirectly."""
    without_the_spec = {m: (set() if m == "api.committed_spec" else GRAPH[m]) for m in GRAPH}
    reached = closure("api.cli", without_the_spec)
    assert not [m for m in reached if _is_under(m, WEB)]
    assert GRAPH["api.committed_spec"] == {"api.app", "api.http.openapi"}


@pytest.mark.parametrize("service", sorted(m for m in MODULES if m.startswith("api.services")))
@pytest.mark.parametrize("web", WEB)
def test_services_never_reach_the_web_layer(service: str, web: str):
    assert _reaches(service, web) is None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _is_under(m, ("api.http",))))
def test_the_http_layer_never_imports_routes_or_the_wiring(module: str):
    """api/http is below the controllers: what they share, never what they are."""
    assert not [m for m in closure(module) if _is_under(m, ("api.app", "api.routes"))]


def third_party_imports(module: str) -> set[str]:
    """Top-level names of the packages outside api that ``module`` imports (lazily or not)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
    return {name.split(".")[0] for name in names if name and _resolve(name) is None}


def closure(module: str, graph: dict[str, set[str]] | None = None) -> set[str]:
    """``module`` and every api module it imports, directly or not."""
    graph = GRAPH if graph is None else graph
    seen, stack = {module}, [module]
    while stack:
        for nxt in graph[stack.pop()] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return seen


LITESTAR_FREE = sorted(m for m in MODULES if m.startswith("api.services") or m in ("api.errors", "api.messages", "api.credentials"))


def test_third_party_imports_are_seen():
    assert "litestar" in third_party_imports("api.http.guards")
    assert "api.http.guards" in closure("api.routes.submissions")
    assert "sqlite3" in third_party_imports("api.http.problems")


@pytest.mark.parametrize("route", sorted(m for m in MODULES if _is_under(m, ("api.routes",))))
def test_routes_never_see_sql(route: str):
    """Controllers call the read model, the services and the store's methods; no SQL driver."""
    assert not third_party_imports(route) & {"sqlite3", "sqlite_utils"}


@pytest.mark.parametrize("module", LITESTAR_FREE)
def test_services_and_domain_errors_never_load_litestar(module: str):
    """Not even through another api module: the rules run (and are tested) without the web."""
    assert not [m for m in closure(module) if "litestar" in third_party_imports(m)]


# --- no private attribute of anything else --------------------------------------------------


def private_attribute_reads(source: str) -> list[str]:
    """``thing._name`` where ``thing`` is not ``self`` or ``cls``: another object's (another
    library's, or another module's) private attribute. Dunders (``__name__``) are public."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reads_another_objects_private_attributes(module: str):
    """A private attribute is its owner's to change in any release (``httpx``'s ``_pool``,
    ``enum``'s ``_value2member_map_``); only an object's own methods read its own."""
    assert private_attribute_reads(MODULES[module].read_text(encoding="utf-8")) == []


def test_private_attribute_reads_are_found():
    source = "client._pool = x\nHTTPStatus._value2member_map_\nself._own\ncls._own\nmodule.__name__\nstore.public\n"
    assert private_attribute_reads(source) == ["line 1: client._pool", "line 2: HTTPStatus._value2member_map_"]


#: Past this many lines a module must say in its docstring why it is one module.
LONG_MODULE_LINES = 500


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_long_module_says_why_it_is_one(module: str):
    """Big modules hide several responsibilities; one that stays big says why (the word
    "lines" in its docstring, next to the reason)."""
    path = MODULES[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines <= LONG_MODULE_LINES:
        return
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "lines" in docstring, f"{module} has {lines} lines and no reason in its docstring"
