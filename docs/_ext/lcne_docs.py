"""Sphinx directives for the lcne docs.

``.. lcne-api:: PACKAGE`` documents every public submodule of PACKAGE (found at build
time, so new modules appear without editing the docs). ``.. lcne-reference-table::``
renders every shipped biological reference value with its source from
``analysis/reference_data``. ``.. lcne-import-graph::`` prints the layer graph of the
source as ``docs/scripts/import_graph.py`` computes it at build time, so the page can
never show a stale graph.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


#: the layers installed inside the ``lcne`` namespace, each with an API page of its own
_LAYERS = ("lcne.models", "lcne.analysis", "lcne.experiments")


def _public_modules(package: str):
    pkg = importlib.import_module(package)
    names = [package]
    if hasattr(pkg, "__path__"):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            if package == "lcne" and info.name.startswith(_LAYERS):
                continue  # documented on their own pages (a wheel install nests them here)
            names.append(info.name)
    return sorted(names)


class LcneApi(SphinxDirective):
    """Expand into one ``automodule`` per public module of a package."""

    required_arguments = 1

    def run(self):
        package = self.arguments[0]
        lines = []
        for name in _public_modules(package):
            lines += [f".. rubric:: {name}", "", f".. automodule:: {name}"]
            if name == package and hasattr(importlib.import_module(name), "__path__"):
                lines += ["   :no-members:", ""]  # re-exports are documented in their own module
            else:
                lines += ["   :members:", "   :show-inheritance:", ""]
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(lines, source=f"<lcne-api {package}>"), self.content_offset, node)
        return node.children


class LcneReferenceTable(SphinxDirective):
    """A table of every value in the shipped reference set, with its source."""

    def run(self):
        from lcne.analysis.biology.reference import load_reference_set

        header = ["reference", "quantity", "value", "range", "unit", "confidence", "species", "source", "checked"]
        rows = []
        for name, ref in load_reference_set().items():
            m = ref.meta
            doi = m.get("doi")
            source = m["citation"] + (f" doi:{doi}" if doi else (f" PMID {m['pmid']}" if m.get("pmid") else ""))
            source += f" ({m['figure']})"
            if ref.kind == "features":
                for r in ref.data.itertuples():
                    rng = f"{r.low:g}-{r.high:g}" if r.low != r.high else "-"
                    rows.append([name, r.feature, f"{r.value:g}", rng, r.units, r.confidence, m["species"],
                                 source, m["checked"]])
            else:
                extra = m.get("parametric") or {}
                params = ", ".join(f"{k} = {v}" for k, v in extra.items() if k != "function")
                rows.append([name, f"curve: {m['y']['name']} vs {m['x']['name']}", params or f"{len(ref.data)} samples",
                             f"{ref.x.min():g}-{ref.x.max():g} {ref.units['x']}", f"{m['y']['units']}",
                             m["confidence"], m["species"], source, m["checked"]])
        table = nodes.table(classes=["longtable"])
        group = nodes.tgroup(cols=len(header))
        table += group
        for width in (12, 10, 6, 6, 4, 4, 10, 26, 26):
            group += nodes.colspec(colwidth=width)
        thead = nodes.thead()
        group += thead
        thead += self._row(header)
        tbody = nodes.tbody()
        group += tbody
        for r in rows:
            tbody += self._row(r)
        return [table]

    @staticmethod
    def _row(cells):
        row = nodes.row()
        for c in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=str(c))
            row += entry
        return row


class LcneImportGraph(SphinxDirective):
    """The output of ``python docs/scripts/import_graph.py``, computed when the docs build."""

    def run(self):
        import importlib.util
        from pathlib import Path

        script = Path(__file__).resolve().parents[1] / "scripts" / "import_graph.py"
        spec = importlib.util.spec_from_file_location("lcne_import_graph", script)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
        text = module.report()
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("lcne-api", LcneApi)
    app.add_directive("lcne-import-graph", LcneImportGraph)
    app.add_directive("lcne-reference-table", LcneReferenceTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
