"""The import graph of lcne's four layers, read from the source with :mod:`ast`.

Usage (from anywhere)::

    python docs/scripts/import_graph.py            # layer graph + cycles
    python docs/scripts/import_graph.py --modules  # also every module-level edge
    python docs/scripts/import_graph.py --dot      # Graphviz (add --modules for modules)
    python docs/scripts/import_graph.py --root DIR # another checkout

Nothing is imported: every ``.py`` file under the repository folders ``lcne/``,
``models/``, ``analysis/`` and ``experiments/`` is parsed and mapped to the name it is
installed under (``models/mlp.py`` -> ``lcne.models.mlp``; see ``setup.cfg``,
``package_dir``). Every import statement counts, wherever it stands (module level,
functions, methods, ``try`` blocks), as do ``importlib.import_module("literal")`` calls;
relative imports are resolved against the module's package. ``from M import x`` points at
the submodule ``M.x`` when that is a module of the tree, else at ``M``. An edge goes to
the module named, not to its parent packages (which Python initialises first anyway).

Cycles are reported twice: between layers (any import), and between modules counting
only imports that run at import time (not those inside functions, nor under
``if TYPE_CHECKING:``), since only those can leave a module half-initialised.

``tests/test_layers.py`` loads this file and checks the allowed arrows on the same
records; keep it standard-library only.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: repository folder -> installed package name
SOURCE_FOLDERS = {
    "lcne": "lcne",
    "models": "lcne.models",
    "analysis": "lcne.analysis",
    "experiments": "lcne.experiments",
}
#: layer names, bottom first
CORE, MODELS, ANALYSIS, EXPERIMENTS = "lcne (core)", "lcne.models", "lcne.analysis", "lcne.experiments"
LAYERS = (CORE, MODELS, ANALYSIS, EXPERIMENTS)
#: top-level names that must never be imported (nor installed)
BARE_NAMES = frozenset({"models", "analysis", "experiments"})
BARE = "bare top-level name"
UNRESOLVED = "unresolved relative import"

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Import:
    """One imported module (or one name of a ``from`` import)."""

    path: str  #: file, relative to the repository root (POSIX separators)
    line: int
    importer: str  #: installed name of the importing module
    target: str  #: absolute name of the imported module
    name: str | None  #: for ``from target import name``: the name (not a submodule); else None
    import_time: bool  #: runs when the importer is imported (not in a function / TYPE_CHECKING)
    statement: str  #: "import", "from" or "dynamic" (importlib.import_module)


def module_name(path: Path, root: Path) -> str:
    """Installed module name of a ``.py`` file of one of the four source folders."""
    rel = path.relative_to(root)
    prefix = SOURCE_FOLDERS[rel.parts[0]]
    parts = list(rel.with_suffix("").parts[1:])
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join([prefix, *parts])


def module_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Installed module name -> source file, for every ``.py`` file of the four folders."""
    root = Path(root)
    files: dict[str, Path] = {}
    for folder in SOURCE_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            files[module_name(path, root)] = path
    return files


def layer_of(module: str) -> str | None:
    """Layer of an absolute module name; :data:`BARE` for ``models``/``analysis``/
    ``experiments``; None for the standard library and third-party packages."""
    if module.startswith("."):
        return UNRESOLVED
    top = module.split(".")[0]
    if top in BARE_NAMES:
        return BARE
    if top != "lcne":
        return None
    for layer in (MODELS, ANALYSIS, EXPERIMENTS):
        if module == layer or module.startswith(layer + "."):
            return layer
    return CORE


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    if level - 1 >= len(parts):  # beyond the top-level package
        return "." * level + (module or "")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


class _Collector(ast.NodeVisitor):
    def __init__(self, importer: str, package: str, path: str, known: set[str]):
        self.importer, self.package, self.path, self.known = importer, package, path, known
        self.depth_runtime = 0  # > 0 inside a function body or under TYPE_CHECKING
        self.records: list[Import] = []

    def _add(self, node: ast.AST, target: str, name: str | None, statement: str) -> None:
        self.records.append(
            Import(self.path, node.lineno, self.importer, target, name, self.depth_runtime == 0, statement)
        )

    def _deferred(self, node: ast.AST) -> None:
        self.depth_runtime += 1
        self.generic_visit(node)
        self.depth_runtime -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _deferred

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.visit(node.test)
            for child in node.body:
                self._deferred(child)
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name, None, "import")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(node.module, node.level, self.package)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if alias.name != "*" and sub in self.known:
                self._add(node, sub, None, "from")
            else:
                self._add(node, base, alias.name, "from")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (
            called == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            package = None
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                package = node.args[1].value
            name = node.args[0].value
            if name.startswith(".") and isinstance(package, str):
                level = len(name) - len(name.lstrip("."))
                name = _resolve(name.lstrip(".") or None, level, package)
            self._add(node, name, None, "dynamic")
        self.generic_visit(node)


def collect_imports(root: Path = REPO_ROOT) -> list[Import]:
    """Every import of every module of the four folders under ``root``."""
    root = Path(root)
    files = module_files(root)
    known = set(files)
    records: list[Import] = []
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        collector = _Collector(module, package, path.relative_to(root).as_posix(), known)
        collector.visit(tree)
        records.extend(collector.records)
    return records


def layer_edges(records: list[Import]) -> Counter:
    """(importer layer, imported layer) -> number of import statements, between different
    layers of the package (the standard library and third-party packages left out)."""
    statements = set()
    for rec in records:
        src, dst = layer_of(rec.importer), layer_of(rec.target)
        if dst is not None and src != dst:
            statements.add((src, dst, rec.path, rec.line))
    return Counter((src, dst) for src, dst, _, _ in statements)


def module_edges(records: list[Import], known: set[str], import_time_only: bool = True) -> dict[str, set[str]]:
    """importer -> modules of the tree it imports (self-imports left out)."""
    graph: dict[str, set[str]] = {name: set() for name in known}
    for rec in records:
        if rec.target in known and rec.target != rec.importer and (rec.import_time or not import_time_only):
            graph[rec.importer].add(rec.target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative), each
    sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = set(graph) | {d for ds in graph.values() for d in ds}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def layer_cycles(records: list[Import]) -> list[list[str]]:
    """Cycles between layers (any import, function-level ones included)."""
    graph: dict[str, set[str]] = {}
    for src, dst in layer_edges(records):
        graph.setdefault(src, set()).add(dst)
    return strongly_connected(graph)


def module_cycles(records: list[Import], known: set[str]) -> list[list[str]]:
    """Import-time cycles between modules."""
    return strongly_connected(module_edges(records, known, import_time_only=True))


def _dot(records: list[Import], known: set[str], modules: bool) -> str:
    lines = ["digraph lcne_imports {", "  rankdir=BT;", '  node [shape=box, fontname="Helvetica"];']
    if modules:
        for src, dsts in sorted(module_edges(records, known).items()):
            for dst in sorted(dsts):
                lines.append(f'  "{src}" -> "{dst}";')
    else:
        for layer in LAYERS:
            lines.append(f'  "{layer}";')
        for (src, dst), n in sorted(layer_edges(records).items()):
            lines.append(f'  "{src}" -> "{dst}" [label="{n}"];')
    lines.append("}")
    return "\n".join(lines)


def report(root: Path = REPO_ROOT, modules: bool = False) -> str:
    """The text report printed by the script."""
    records = collect_imports(root)
    known = set(module_files(root))
    statements = len({(r.path, r.line) for r in records})
    out = [f"{len(known)} modules, {statements} import statements (module level and inside functions)", ""]
    out.append("Layer graph (importer -> imported: number of import statements):")
    edges = layer_edges(records)
    order = {name: i for i, name in enumerate(LAYERS + (BARE, UNRESOLVED))}
    for (src, dst), n in sorted(edges.items(), key=lambda e: (order[e[0][0]], order[e[0][1]])):
        out.append(f"  {src:<17} -> {dst:<17} {n:>4}")
    if not edges:
        out.append("  (none)")
    out.append("")
    for title, cycles in (
        ("Layer-level cycles (any import)", layer_cycles(records)),
        ("Module-level import cycles (import-time imports only)", module_cycles(records, known)),
    ):
        out.append(f"{title}: {'none' if not cycles else len(cycles)}")
        out.extend("  " + " <-> ".join(c) for c in cycles)
    if modules:
        out.append("")
        out.append("Module edges (import time):")
        for src, dsts in sorted(module_edges(records, known).items()):
            for dst in sorted(dsts):
                out.append(f"  {src} -> {dst}")
        deferred = sorted(
            {(r.importer, r.target) for r in records if not r.import_time and r.target in known and r.target != r.importer}
            - {(s, d) for s, ds in module_edges(records, known).items() for d in ds}
        )
        out.append("Module edges (only inside functions / TYPE_CHECKING):")
        out.extend(f"  {src} -> {dst}" for src, dst in deferred)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: this checkout)")
    parser.add_argument("--modules", action="store_true", help="also list the module-level edges")
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot instead of text")
    args = parser.parse_args(argv)
    if args.dot:
        records = collect_imports(args.root)
        print(_dot(records, set(module_files(args.root)), args.modules))
    else:
        print(report(args.root, args.modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
